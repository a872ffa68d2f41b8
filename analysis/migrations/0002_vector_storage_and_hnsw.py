from django.db import migrations

from analysis.vector_indexes import KNOWN_INDEXES

# A 512-float vector is just over the inline limit: TOASTed, an exact scan is ~4x slower.
STORAGE_PLAIN = "ALTER TABLE analysis_embedding ALTER COLUMN vector SET STORAGE PLAIN"
STORAGE_DEFAULT = "ALTER TABLE analysis_embedding ALTER COLUMN vector SET STORAGE EXTERNAL"


class Migration(migrations.Migration):
    dependencies = [("analysis", "0001_initial")]

    operations = [
        migrations.RunSQL(STORAGE_PLAIN, STORAGE_DEFAULT),
        *[migrations.RunSQL(index.create_sql(), index.drop_sql()) for index in KNOWN_INDEXES],
    ]
