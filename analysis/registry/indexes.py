"""A registered model's partial HNSW index, built and dropped without a write lock.

`CREATE INDEX CONCURRENTLY` lets the catalog take writes while the graph is built; it cannot
run inside a transaction, and one that fails leaves an INVALID index behind, which is dropped
and built again on the next try (`IF NOT EXISTS` alone would keep the broken one).
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from analysis.embedding_models import EmbeddingModel
from analysis.vector_indexes import VectorIndex, configured_method


class IndexBuildError(RuntimeError):
    pass


def model_index(row: EmbeddingModel) -> VectorIndex:
    return VectorIndex(
        model=row.name, kind=row.kind, dimensions=row.dimensions, method=configured_method()
    )


def index_state(index: VectorIndex) -> str:
    """ "missing", "invalid" (a failed concurrent build) or "valid"."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
            "WHERE c.relname = %s AND pg_table_is_visible(c.oid)",
            [index.name],
        )
        row = cursor.fetchone()
    if row is None:
        return "missing"
    return "valid" if row[0] else "invalid"


def _outside_transaction() -> None:
    if connection.in_atomic_block:
        raise IndexBuildError("a concurrent index build cannot run inside a transaction.")


def index_build(
    row: EmbeddingModel, *, m: int | None = None, ef_construction: int | None = None
) -> str:
    """Build `row`'s index unless a valid one exists; what was done ("built" / "kept").
    `m` / `ef_construction`: default `SWATCH_HNSW_M` / `SWATCH_HNSW_EF_CONSTRUCTION`."""
    _outside_transaction()
    index = model_index(row)
    state = index_state(index)
    if state == "valid":
        outcome = "kept"
    else:
        with connection.cursor() as cursor:
            if state == "invalid":
                cursor.execute(index.drop_sql(concurrently=True))
            cursor.execute(
                index.create_sql(m=m, ef_construction=ef_construction, concurrently=True)
            )
        if index_state(index) != "valid":
            raise IndexBuildError(f"the index {index.name} did not build.")
        outcome = "built"
    EmbeddingModel.objects.filter(pk=row.pk).update(index_built_at=timezone.now())
    return outcome


def index_drop(row: EmbeddingModel) -> None:
    _outside_transaction()
    with connection.cursor() as cursor:
        cursor.execute(model_index(row).drop_sql(concurrently=True))
    EmbeddingModel.objects.filter(pk=row.pk).update(index_built_at=None)
