from django.db import migrations

# A 512-float vector is just over the inline limit: TOASTed, an exact scan is ~4x slower.
STORAGE_PLAIN = "ALTER TABLE analysis_embedding ALTER COLUMN vector SET STORAGE PLAIN"
STORAGE_DEFAULT = "ALTER TABLE analysis_embedding ALTER COLUMN vector SET STORAGE EXTERNAL"

# The partial HNSW indexes, frozen as `analysis.vector_indexes.VectorIndex` wrote them when this
# migration was last changed: a migration replays the same SQL whatever the live code becomes
# (later index changes are later migrations, e.g. 0006; new models' indexes come from the
# embedding-model registry's command).
_WITH = "vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
INDEXES = (  # (name, dimensions, model, kind)
    ("emb_hnsw_efficientnet_lite0_image", 1704, "efficientnet-lite0", "image"),
    ("emb_hnsw_all_minilm_l6_v2_description", 384, "all-minilm-l6-v2", "description"),
    ("emb_hnsw_clip_vit_b_32_image", 512, "clip-vit-b-32", "image"),
    ("emb_hnsw_clip_vit_b_32_description", 512, "clip-vit-b-32", "description"),
)


def _create(name: str, dimensions: int, model: str, kind: str) -> str:
    return (
        f"CREATE INDEX IF NOT EXISTS {name} ON analysis_embedding USING hnsw "
        f"((vector::vector({dimensions})) {_WITH} WHERE model = '{model}' AND kind = '{kind}'"
    )


class Migration(migrations.Migration):
    dependencies = [("analysis", "0001_initial")]

    operations = [
        migrations.RunSQL(STORAGE_PLAIN, STORAGE_DEFAULT),
        *[
            migrations.RunSQL(_create(*index), f"DROP INDEX IF EXISTS {index[0]}")
            for index in INDEXES
        ],
    ]
