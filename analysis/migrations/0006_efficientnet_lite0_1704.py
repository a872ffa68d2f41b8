from django.db import migrations


# The offline image embedding grew from the head's 1280-d pool to 1704-d (head + four mid-level
# stage pools): on the shared textures, leave-group-out P@1 0.66 → 0.71, mAP 0.43 → 0.46.
# Vectors stored at 1280-d no longer match the model: they are dropped and re-embedded
# (`manage.py analyze_catalog --force`); the index expression would reject them anyway.
# The index SQL frozen as `analysis.vector_indexes.VectorIndex` wrote it (same as 0002's).
INDEX = "emb_hnsw_efficientnet_lite0_image"
DROP = f"DROP INDEX IF EXISTS {INDEX}"


def _create(dimensions: int) -> str:
    return (
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON analysis_embedding USING hnsw "
        f"((vector::vector({dimensions})) vector_cosine_ops) WITH (m = 16, ef_construction = 64) "
        "WHERE model = 'efficientnet-lite0' AND kind = 'image'"
    )


DELETE_STALE = (
    "DELETE FROM analysis_embedding WHERE model = 'efficientnet-lite0' AND kind = 'image' "
    "AND dimensions <> 1704"
)


class Migration(migrations.Migration):
    dependencies = [("analysis", "0005_curator_group")]

    operations = [
        migrations.RunSQL(DROP, _create(1280)),
        migrations.RunSQL(DELETE_STALE, migrations.RunSQL.noop),
        migrations.RunSQL(_create(1704), DROP),
    ]
