"""Bulk loading of a model's vectors (analysis/registry/bulk_load.py), against the real
Postgres: COPY with the index dropped and built again leaves a valid index that answers as a
row-by-row load does; a load that stops part way still gets its index back; the command's
bulk path (`reembed_catalog --sync`) writes the same vectors and search answers."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection

from analysis.models import Embedding, EmbeddingModel
from analysis.registry.bulk_load import EmbeddingBulkLoad, VectorRow
from analysis.registry.indexes import index_state, model_index
from analysis.vector_indexes import VectorIndex
from tests.analysis.pipeline_support import store_images
from tests.analysis.registry_support import (
    POOLED,
    analysed_catalog,
    command,
    register_pooled,
)
from tests.analysis.test_embedding_registry import _search

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("registry")]
DIMENSIONS = 8
ROW_BY_ROW, BULK = "test-rows-model", "test-bulk-model"


@pytest.fixture
def indexes():
    made = [VectorIndex(name, "image", DIMENSIONS) for name in (ROW_BY_ROW, BULK)]
    with connection.cursor() as cursor:
        for index in made:
            cursor.execute(index.create_sql())
    yield {index.model: index for index in made}
    with connection.cursor() as cursor:
        for index in made:
            cursor.execute(index.drop_sql())


def _load(model: str, rows: list[VectorRow], *, min_rows: int) -> EmbeddingBulkLoad:
    with EmbeddingBulkLoad(
        model=model, kind="image", dimensions=DIMENSIONS, expected_rows=len(rows),
        min_rows=min_rows,
    ) as load:  # fmt: skip
        load.add(rows)
    return load


def _nearest(index: VectorIndex, query: np.ndarray, *, k: int = 5) -> tuple[list[int], str]:
    """The `k` nearest images by `index` (sequential scans and sorts off: the vector index
    answers, not the (model, kind) b-tree plus a sort the planner may prefer on a tiny table
    whose statistics an earlier test left), and the plan."""
    sql = (
        f"SELECT image_id FROM analysis_embedding WHERE {index.predicate} "  # noqa: S608 - constants
        f"ORDER BY {index.expression} <=> {index.cast('%s')} LIMIT {k}"
    )
    vector = "[" + ",".join(f"{x:.6f}" for x in query) + "]"
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_sort = off")
        try:
            cursor.execute(f"EXPLAIN {sql}", [vector])
            plan = " ".join(row[0] for row in cursor.fetchall())
            cursor.execute(sql, [vector])
            return [row[0] for row in cursor.fetchall()], plan
        finally:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_sort")


def test_a_bulk_load_rebuilds_a_valid_index_that_answers_as_a_row_by_row_load(shared_data, indexes):
    # given 12 stored images and a vector for each
    images = store_images(shared_data, 12, catalog="bulk")
    vectors = np.random.default_rng(7).standard_normal((len(images), DIMENSIONS))
    rows = [
        VectorRow(image.pk, vector, f"sha-{image.pk}")
        for image, vector in zip(images, vectors, strict=True)
    ]
    # when one model's vectors are upserted row by row and another's bulk-loaded (threshold 5)
    assert not _load(ROW_BY_ROW, rows, min_rows=len(rows) + 1).bulk
    load = _load(BULK, rows, min_rows=5)
    # then the bulk load took the COPY path, and its index is back and valid
    assert load.bulk
    assert load.written == len(rows)
    assert "copy" in load.seconds
    assert index_state(indexes[BULK]) == "valid"
    # and the same vectors are stored, with their sources
    stored = dict(Embedding.objects.filter(model=BULK).values_list("image_id", "source_sha256"))
    assert stored == {image.pk: f"sha-{image.pk}" for image in images}
    # and each index answers the same nearest images, the bulk-built one through its index
    for query in vectors[:4]:
        expected, _ = _nearest(indexes[ROW_BY_ROW], query)
        found, plan = _nearest(indexes[BULK], query)
        assert found == expected
        assert indexes[BULK].name in plan
    # when the bulk load runs again with other vectors, then they replace the first ones
    again = [VectorRow(row.image_id, -np.asarray(row.vector), "again") for row in rows]
    _load(BULK, again, min_rows=5)
    assert Embedding.objects.filter(model=BULK).count() == len(rows)
    assert set(Embedding.objects.filter(model=BULK).values_list("source_sha256", flat=True)) == {
        "again"
    }
    assert _nearest(indexes[BULK], -vectors[0])[0][0] == images[0].pk


def test_a_bulk_load_that_fails_part_way_keeps_what_it_loaded_and_gets_its_index_back(
    shared_data, indexes
):
    images = store_images(shared_data, 6, catalog="bulk")
    vectors = np.random.default_rng(3).standard_normal((len(images), DIMENSIONS))

    def stopped_half_way() -> None:
        with EmbeddingBulkLoad(
            model=BULK, kind="image", dimensions=DIMENSIONS, expected_rows=6, min_rows=2
        ) as load:
            load.add([VectorRow(images[i].pk, vectors[i]) for i in range(3)])
            raise RuntimeError("embedder stopped")

    with pytest.raises(RuntimeError, match="embedder stopped"):
        stopped_half_way()
    assert Embedding.objects.filter(model=BULK).count() == 3
    assert index_state(indexes[BULK]) == "valid"


def test_a_bulk_reembedding_writes_the_vectors_and_answers_of_a_row_by_row_one(shared_data):
    # given an analysed catalog and a second image model, activated, its index built
    images = analysed_catalog(shared_data, 8, catalog="bulk")
    register_pooled()
    row = EmbeddingModel.objects.get(name=POOLED)
    # when it is re-embedded row by row, then searched
    command("reembed_catalog", "--model", POOLED, "--sync", "--bulk-min-rows", "1000")
    command("activate_embedding_model", POOLED)
    row_by_row = dict(Embedding.objects.filter(model=POOLED).values_list("image_id", "vector"))
    answers = [_search(image, image.catalog_id) for image in images[:3]]
    # when its vectors are gone and it is re-embedded again, in bulk (threshold lowered)
    Embedding.objects.filter(model=POOLED).delete()
    err = io.StringIO()
    call_command(
        "reembed_catalog", "--model", POOLED, "--sync", "--bulk-min-rows", "4",
        stdout=io.StringIO(), stderr=err,
    )  # fmt: skip
    # then it took the bulk path, its index is valid, and vectors and answers are the same
    assert "bulk load: 8 vectors copied" in err.getvalue()
    assert index_state(model_index(row)) == "valid"
    bulk = dict(Embedding.objects.filter(model=POOLED).values_list("image_id", "vector"))
    assert bulk.keys() == row_by_row.keys() == {image.pk for image in images}
    for image_id, vector in bulk.items():
        np.testing.assert_allclose(vector, row_by_row[image_id], atol=1e-6)
    assert [_search(image, image.catalog_id) for image in images[:3]] == answers


def _reloptions(index: VectorIndex) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [index.name])
        return sorted(cursor.fetchone()[0])


def test_a_bulk_load_rebuilds_an_index_as_dense_as_it_was_and_new_ones_by_the_settings(
    shared_data, indexes, settings
):
    # given the bulk model's index built denser than the defaults, and other settings
    dense = indexes[BULK]
    with connection.cursor() as cursor:
        cursor.execute(dense.drop_sql())
        cursor.execute(dense.create_sql(m=24, ef_construction=80))
    settings.SWATCH = {**settings.SWATCH, "HNSW_M": 20, "HNSW_EF_CONSTRUCTION": 72}
    images = store_images(shared_data, 6, catalog="bulk")
    vectors = np.random.default_rng(5).standard_normal((len(images), DIMENSIONS))
    # when it is bulk-loaded (its index dropped and built again)
    load = _load(BULK, [VectorRow(i.pk, v) for i, v in zip(images, vectors, strict=True)],
                 min_rows=2)  # fmt: skip
    # then the rebuilt index has the graph settings it was built with, not the settings'
    assert load.bulk
    assert _reloptions(dense) == ["ef_construction=80", "m=24"]
    # and an index built without saying takes SWATCH_HNSW_M / SWATCH_HNSW_EF_CONSTRUCTION
    other = indexes[ROW_BY_ROW]
    with connection.cursor() as cursor:
        cursor.execute(other.drop_sql())
        cursor.execute(other.create_sql())
    assert _reloptions(other) == ["ef_construction=72", "m=20"]
