"""Where a catalog image was downloaded from. The column has a constant default (no table
rewrite) and its index is built CONCURRENTLY: a live catalog keeps taking writes."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("materials", "0004_square_thumbnails")]

    operations = [
        migrations.AddField(
            model_name="materialimage",
            name="source_url",
            field=models.CharField(blank=True, db_default="", default="", max_length=2000),
        ),
        AddIndexConcurrently(
            model_name="materialimage",
            index=models.Index(fields=["catalog", "source_url"], name="image_source_url"),
        ),
    ]
