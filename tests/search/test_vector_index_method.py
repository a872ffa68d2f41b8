"""`SWATCH_VECTOR_INDEX_METHOD`: the vector index searches read and the registry builds."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from analysis.vector_indexes import VectorIndex, configured_method
from search.query import filters_parse
from search.strategies.sql import vector_index
from search.strategies.vector import VectorPlan, vector_search, vector_sql
from tests.search.providers import IMAGE_MODEL
from tests.search.queries import work_statements
from tests.search.test_strategies import DIMS, bulk_catalog, exact_top


@pytest.fixture
def halfvec(settings, db):
    settings.SWATCH_VECTOR_INDEX_METHOD = "hnsw_halfvec"
    index = VectorIndex(IMAGE_MODEL, "image", DIMS, "hnsw_halfvec")
    with connection.cursor() as cursor:
        cursor.execute(index.create_sql())
    return index


def test_with_halfvec_chosen_searches_read_the_halfvec_index(halfvec):
    vectors, query = bulk_catalog(300, rare_every=20)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE analysis_embedding")
    index = vector_index(model=IMAGE_MODEL, kind="image", dimensions=DIMS)
    assert index == halfvec

    # the planner takes the half-precision index for the vector strategy's own SQL
    sql, args = vector_sql(
        plan=VectorPlan("index"), index=index, vector=query, filters=filters_parse(raw={}),
        fetch=20,
    )  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute("EXPLAIN " + sql, args)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert halfvec.name in plan

    # and a search through it finds what an exact scan finds
    with CaptureQueriesContext(connection) as captured:
        hits = vector_search(
            vector=query, model=IMAGE_MODEL, dimensions=DIMS, filters=filters_parse(raw={}),
            limit=10, threshold=0.75,
        )  # fmt: skip
    # (its own statement, as it ran, is planned on the half-precision index)
    (executed,) = work_statements(captured)
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute("EXPLAIN " + executed)
        assert halfvec.name in "\n".join(row[0] for row in cursor.fetchall())
    assert [h.material_id for h in hits] == exact_top(vectors, query)


def test_an_unknown_method_is_refused(settings):
    settings.SWATCH_VECTOR_INDEX_METHOD = "diskann"  # cannot serve the catalog's table
    with pytest.raises(ImproperlyConfigured, match="hnsw, hnsw_halfvec"):
        configured_method()
    settings.SWATCH_VECTOR_INDEX_METHOD = "hnsw"
    assert configured_method() == "hnsw"
