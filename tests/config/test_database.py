"""The embedded PostgreSQL really has a working pgvector: 512-d distances, HNSW, EXPLAIN."""

import numpy as np
import pytest
from django.db import connection, transaction

from analysis.models import Embedding, EmbeddingKind
from analysis.vector_indexes import KNOWN_INDEXES, VectorIndex
from materials.models import Catalog, Material, MaterialImage

pytestmark = pytest.mark.django_db

CLIP_IMAGE = next(i for i in KNOWN_INDEXES if i.model == "clip-vit-b-32" and i.kind == "image")


def _image(catalog: Catalog, n: int) -> MaterialImage:
    material = Material.objects.create(catalog=catalog, name=f"m{n}")
    return MaterialImage.objects.create(
        material=material, catalog=catalog, sha256=f"{n:064x}", image=f"images/{n}.jpg"
    )


def _unit(rng: np.random.Generator, dims: int) -> np.ndarray:
    v = rng.normal(size=dims).astype(np.float32)
    return v / np.linalg.norm(v)


def test_pgvector_extension_is_installed_at_version_0_8():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        (version,) = cursor.fetchone()
    major, minor, *_ = (int(p) for p in version.split("."))
    assert (major, minor) >= (0, 8)


def test_vector_round_trip_keeps_values_and_model_name():
    # given a 1704-d and a 512-d vector stored in the one unconstrained column
    rng = np.random.default_rng(1)
    catalog = Catalog.objects.create(name="c")
    image = _image(catalog, 1)
    wide, narrow = _unit(rng, 1704), _unit(rng, 512)
    Embedding.objects.create(
        image=image, kind="image", model="efficientnet-lite0", dimensions=1704, vector=wide
    )
    Embedding.objects.create(
        image=image, kind="image", model="clip-vit-b-32", dimensions=512, vector=narrow
    )
    # when they are read back
    stored = {e.model: e for e in Embedding.objects.filter(image=image)}
    # then every component survives (float4) and each keeps its model's name and size
    np.testing.assert_allclose(stored["efficientnet-lite0"].vector, wide, rtol=1e-6)
    np.testing.assert_allclose(stored["clip-vit-b-32"].vector, narrow, rtol=1e-6)
    assert stored["clip-vit-b-32"].dimensions == 512


def test_512d_cosine_distance_is_computed_by_the_server():
    # A pgvector built for AVX-512 crashes (SIGILL) right here on CPUs without it.
    rng = np.random.default_rng(2)
    a, b = _unit(rng, 512), _unit(rng, 512)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::vector(512) <=> %s::vector(512)",
            [str(a.tolist()), str(b.tolist())],
        )
        (distance,) = cursor.fetchone()
    assert distance == pytest.approx(1 - float(a @ b), abs=1e-5)


def test_vector_column_is_stored_plain_not_toasted():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attstorage FROM pg_attribute WHERE attrelid = 'analysis_embedding'::regclass "
            "AND attname = 'vector'"
        )
        assert cursor.fetchone() == ("p",)


@pytest.mark.django_db(transaction=True)
def test_hnsw_index_builds_and_serves_a_nearest_neighbour_query():
    # given 5,000 clustered 512-d CLIP image vectors (enough that the planner prefers the index
    # on its own at ef_search 100: below ~4,000 rows a sequential scan is estimated cheaper)
    n_rows, n_clusters = 5000, 8
    rng = np.random.default_rng(3)
    catalog = Catalog.objects.create(name="hnsw")
    materials = Material.objects.bulk_create(
        Material(catalog=catalog, name=f"m{n}") for n in range(n_rows)
    )
    images = MaterialImage.objects.bulk_create(
        MaterialImage(material=m, catalog=catalog, sha256=f"{n:064x}", image=f"i/{n}.jpg")
        for n, m in enumerate(materials)
    )
    centres = [_unit(rng, 512) for _ in range(n_clusters)]
    vectors = []
    for n in range(n_rows):
        v = centres[n % n_clusters] + 0.05 * rng.normal(size=512)
        vectors.append((v / np.linalg.norm(v)).astype(np.float32))
    Embedding.objects.bulk_create(
        Embedding(
            image=img, kind=EmbeddingKind.IMAGE, model=CLIP_IMAGE.model, dimensions=512, vector=vec
        )
        for img, vec in zip(images, vectors, strict=True)
    )
    query = vectors[7]
    # when the index is rebuilt over the data (an HNSW build at 512-d) and a k-NN query runs
    # with the index's own expression and predicate
    sql = (
        f"SELECT image_id FROM analysis_embedding WHERE {CLIP_IMAGE.predicate} "
        f"ORDER BY {CLIP_IMAGE.expression} <=> %s::vector(512) LIMIT 5"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"REINDEX INDEX {CLIP_IMAGE.name}")
        cursor.execute("ANALYZE analysis_embedding")
        with transaction.atomic():
            cursor.execute("SET LOCAL hnsw.ef_search = 100")
            cursor.execute("EXPLAIN " + sql, [str(query.tolist())])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute(sql, [str(query.tolist())])
            nearest = [row[0] for row in cursor.fetchall()]
    # then the plan uses the partial HNSW index and the query finds the vector itself first
    assert f"Index Scan using {CLIP_IMAGE.name}" in plan, plan[:300]
    assert nearest[0] == images[7].pk
    same_cluster = {img.pk for n, img in enumerate(images) if n % n_clusters == 7 % n_clusters}
    assert set(nearest) <= same_cluster


def test_known_indexes_exist_with_their_predicates():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'analysis_embedding'"
        )
        defs = dict(cursor.fetchall())
    for index in KNOWN_INDEXES:
        assert index.name in defs
        assert "hnsw" in defs[index.name]
        assert f"vector({index.dimensions})" in defs[index.name]


def test_index_names_stay_within_postgres_identifier_limit():
    index = VectorIndex("a-very-long-model-name-" * 4, "description", 384)
    assert len(index.name) <= 63
