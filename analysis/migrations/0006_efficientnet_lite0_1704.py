from django.db import migrations

from analysis.vector_indexes import VectorIndex

# The offline image embedding grew from the head's 1280-d pool to 1704-d (head + four mid-level
# stage pools): on the shared textures, leave-group-out P@1 0.66 → 0.71, mAP 0.43 → 0.46.
# Vectors stored at 1280-d no longer match the model: they are dropped and re-embedded
# (`manage.py analyze_catalog --force`); the index expression would reject them anyway.
OLD = VectorIndex("efficientnet-lite0", "image", 1280)
NEW = VectorIndex("efficientnet-lite0", "image", 1704)

DELETE_STALE = (
    "DELETE FROM analysis_embedding WHERE model = 'efficientnet-lite0' AND kind = 'image' "
    "AND dimensions <> 1704"
)


class Migration(migrations.Migration):
    dependencies = [("analysis", "0005_curator_group")]

    operations = [
        migrations.RunSQL(OLD.drop_sql(), OLD.create_sql()),
        migrations.RunSQL(DELETE_STALE, migrations.RunSQL.noop),
        migrations.RunSQL(NEW.create_sql(), NEW.drop_sql()),
    ]
