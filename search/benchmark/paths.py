"""The four timed paths of `bench_search` (see `search.benchmark.run`): the pgvector query
alone, the search service with the vector strategy only and with every strategy, and the
HTTP API; each a callable of a position in the synthetic catalog."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from django.db import connection, transaction

from analysis.providers.protocols import EmbeddingBatch, ProviderError
from search.benchmark.synthetic import SyntheticCatalog
from search.benchmark.timing import Latencies
from search.query import SearchFilters, SearchQuery
from search.services.run import search_run
from search.strategies.sql import vector_index
from search.strategies.vector import IMAGE_OVERFETCH, VectorPlan, vector_sql

LIMIT = 20
VECTOR_ONLY = {"vector": 1.0, "properties": 0.0, "semantic": 0.0}
API_PATH = "/api/v1/search/"


class BenchmarkError(Exception):
    """The benchmark cannot run or produced nonsense (e.g. a search that finds nothing)."""


class StoredVectorsOnly:
    """The bench's providers: its queries are material ids, whose vectors are stored, so nothing
    is embedded; a call would mean the benchmark timed something it did not mean to."""

    def __init__(self, *, model: str, dimensions: int) -> None:
        self.model = model
        self.dimensions = dimensions

    def _refuse(self, *args: object) -> EmbeddingBatch:
        raise ProviderError(
            "bench_search queries by stored vectors only", retryable=False, code="not_supported"
        )

    embed_images = _refuse
    embed_texts = _refuse


def default_fetch(config) -> int:
    """What the vector strategy fetches for a default request that excludes the query
    material."""
    return max(config.candidates, LIMIT) * IMAGE_OVERFETCH + 1


def _raw_sql(vector: np.ndarray, *, index, ef_search: int, fetch: int, timer: Latencies) -> list:
    sql, args = vector_sql(
        plan=VectorPlan(mode="index"),
        index=index,
        vector=vector,
        filters=SearchFilters(),
        fetch=fetch,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL hnsw.ef_search = {int(ef_search)}")

        def query() -> list:
            cursor.execute(sql, args)
            return cursor.fetchall()

        return timer.time(query)


def timed_paths(
    catalog: SyntheticCatalog, server, timers: dict[str, Latencies], config
) -> dict[str, Callable[[int], Any]]:
    index = vector_index(
        model=catalog.image_model, kind="image", dimensions=catalog.image_index.dimensions
    )
    fetch = default_fetch(config)
    ids = catalog.material_ids.tolist()

    def raw_sql(i: int) -> Any:
        return _raw_sql(
            catalog.image_vectors[i], index=index, ef_search=max(config.ef_search, fetch),
            fetch=fetch, timer=timers["raw_sql"],
        )  # fmt: skip

    def vector(i: int) -> Any:
        query = SearchQuery(material_id=ids[i], weights=dict(VECTOR_ONLY), limit=LIMIT)
        return timers["vector"].time(lambda: search_run(query=query, refine="never"))

    def fused(i: int) -> Any:
        query = SearchQuery(material_id=ids[i], limit=LIMIT)
        return timers["fused"].time(lambda: search_run(query=query, refine="never"))

    def api(i: int) -> Any:
        status, body = timers["api"].time(
            lambda: server.post_json(API_PATH, {"material_id": ids[i]})
        )
        if status != 200:
            raise BenchmarkError(f"{API_PATH} answered {status}: {body}")
        return body

    return {"raw_sql": raw_sql, "vector": vector, "fused": fused, "api": api}
