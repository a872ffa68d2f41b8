"""Index methods side by side on the synthetic catalog's image vectors: pgvector HNSW on
`vector`, HNSW on the half-precision cast (`halfvec`), pgvectorscale's StreamingDiskANN, and
FAISS HNSW in this process as the reference — each over a sweep of its search-time knob, the
same queries interleaved, so that they compare at matched recall@20 within one run.

Each HNSW query is the vector strategy's own SQL (`vector_sql`) for that index. DiskANN cannot
serve Swatch's table as it is: pgvectorscale 0.9 builds an expression index but its scan fails
(`assertion failed: attnum > 0`: it reads the indexed column back from the heap), and a partial
DiskANN index overwrites the table's row-count statistics with its own (pgvectorscale issue
283). So it is measured as it would have to be deployed: a table of its own per model, holding
`(image_id, vector(d))`, queried in the same shape (nearest rows, then their images).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from django.db import connection

from analysis.vector_indexes import VectorIndex
from search.benchmark.recall import RECALL_K, exact_top, recall_at
from search.benchmark.synthetic import build_memory, index_build, raw_connection
from search.benchmark.synthetic_rows import EMBEDDING, IMAGE
from search.benchmark.timing import Latencies
from search.query import SearchFilters
from search.strategies.sql import qualified_predicate, vector_literal
from search.strategies.vector import VectorPlan, vector_sql

# The knob each method is swept over, and its values: from the rows a default search fetches
# (HNSW returns at most `ef_search` rows) upwards.
SWEEP_VALUES = (101, 160, 250, 400, 640, 1000)
SWEEPS: dict[str, tuple[str, tuple[int, ...]]] = {
    "hnsw": ("hnsw.ef_search", SWEEP_VALUES),
    "hnsw_halfvec": ("hnsw.ef_search", SWEEP_VALUES),
    "diskann": ("diskann.query_search_list_size", SWEEP_VALUES),
    "faiss_hnsw": ("efSearch", SWEEP_VALUES),
}
HNSW_METHODS = ("hnsw", "hnsw_halfvec")
TARGET_RECALL = 0.95
FAISS_M, FAISS_EF_CONSTRUCTION = 16, 64


def _vectorscale_available() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vectorscale'")
        if cursor.fetchone() is None:
            return False
        cursor.execute("CREATE EXTENSION IF NOT EXISTS vectorscale")
    return True


def _faiss():
    try:
        import faiss
    except ImportError:
        return None
    return faiss


def _settings_sql(method: str, value: int) -> list[str]:
    if method == "diskann":
        # Rescore as many candidates as the list holds: the compressed (SBQ) distances alone
        # cannot reach the recall the other methods are compared at.
        return [
            f"SET LOCAL diskann.query_search_list_size = {value}",
            f"SET LOCAL diskann.query_rescore = {value}",
        ]
    return [f"SET LOCAL hnsw.ef_search = {value}"]


def _diskann_table(catalog) -> str:
    return f"bench_dann_{catalog.run}"


def _diskann_sql(catalog, fetch: int) -> str:
    d = catalog.image_index.dimensions
    return (
        "SELECT mi.material_id, nn.distance FROM (SELECT image_id, "  # noqa: S608 - names of this run
        f"vector <=> %s::vector({d}) AS distance FROM {_diskann_table(catalog)} "
        f"ORDER BY vector <=> %s::vector({d}) LIMIT {int(fetch)}) nn "
        f"JOIN {IMAGE} mi ON mi.id = nn.image_id ORDER BY nn.distance"
    )


def _pg_query(cursor, catalog, index: VectorIndex, vector, fetch: int):
    if index.method == "diskann":
        literal = vector_literal(vector)
        sql, args = _diskann_sql(catalog, fetch), [literal, literal]
    else:
        sql, args = vector_sql(
            plan=VectorPlan(mode="index"), index=index, vector=vector, filters=SearchFilters(),
            fetch=fetch,
        )  # fmt: skip

    def prepare(value: int) -> None:
        cursor.execute("BEGIN")
        for statement in _settings_sql(index.method, value):
            cursor.execute(statement)

    def run() -> list[int]:
        cursor.execute(sql, args)
        return [row[0] for row in cursor.fetchall()]

    return prepare, run


def _diskann_build(cursor, catalog) -> tuple[VectorIndex, dict[str, float]]:
    """The DiskANN index on a table of its own (see the module's docstring)."""
    base, table = catalog.image_index, _diskann_table(catalog)
    cursor.execute(
        f"CREATE TABLE {table} AS SELECT e.image_id, {base.cast('e.vector')} AS vector "  # noqa: S608 - names of this run
        f"FROM {EMBEDDING} e WHERE {qualified_predicate(base)}"
    )
    index = VectorIndex(base.model, base.kind, base.dimensions, "diskann")
    catalog.indexes.append(index)
    started = time.perf_counter()
    cursor.execute(f"SET maintenance_work_mem = '{build_memory(len(catalog.material_ids))}'")
    cursor.execute(f"CREATE INDEX {index.name} ON {table} USING diskann (vector vector_cosine_ops)")
    cursor.execute(f"ANALYZE {table}")
    seconds = round(time.perf_counter() - started, 2)
    cursor.execute("SELECT pg_relation_size(%s::regclass)", [index.name])
    return index, {"seconds": seconds, "mb": round(cursor.fetchone()[0] / 2**20, 1)}


def _faiss_index(faiss, vectors: np.ndarray) -> tuple[Any, dict[str, float]]:
    started = time.perf_counter()
    index = faiss.IndexHNSWFlat(vectors.shape[1], FAISS_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = FAISS_EF_CONSTRUCTION
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    seconds = round(time.perf_counter() - started, 2)
    # Each vector (4 bytes a dimension) and its level-0 links (2·M ids of 4 bytes).
    mb = round(vectors.shape[0] * (vectors.shape[1] * 4 + 2 * FAISS_M * 4) / 2**20, 1)
    faiss.omp_set_num_threads(1)  # one query on one core, like a Postgres backend
    return index, {"seconds": seconds, "mb": mb}


def _best_at_target(sweep: dict[int, dict[str, float]]) -> dict[str, Any] | None:
    for value, figures in sorted(sweep.items()):
        if figures["recall_at_20"] >= TARGET_RECALL:
            return {"setting": value, **figures}
    return None


def _build_all(
    catalog, say, faiss, skip: frozenset[str]
) -> tuple[dict[str, VectorIndex], dict[str, Any]]:
    """The catalog's own image index (the configured method's, built with the catalog) and
    the other methods not in `skip`, built now."""
    base = catalog.image_index
    methods = {base.method: base}
    builds = {base.method: catalog.index_builds.get(base.name, {})}
    raw = raw_connection()
    try:
        for method in HNSW_METHODS:
            if method in methods or method in skip:
                continue
            index = VectorIndex(base.model, base.kind, base.dimensions, method)
            catalog.indexes.append(index)
            builds[method] = index_build(raw.cursor(), index, items=len(catalog.material_ids))
            methods[method] = index
            say(f"built the {method} index: {builds[method]}")
        if "diskann" not in skip and _vectorscale_available():
            methods["diskann"], builds["diskann"] = _diskann_build(raw.cursor(), catalog)
            say(f"built the DiskANN index: {builds['diskann']}")
    finally:
        raw.close()
    if faiss is not None and "faiss_hnsw" not in skip:
        methods["faiss_hnsw"], builds["faiss_hnsw"] = _faiss_index(faiss, catalog.image_vectors)
        say(f"built FAISS HNSW: {builds['faiss_hnsw']}")
    return methods, builds


def _timed_sweeps(catalog, methods, positions: list[int], fetch: int, rng):
    timers = {(m, v): Latencies() for m in methods for v in SWEEPS[m][1]}
    answers: dict[tuple[str, int], list[list[int]]] = {key: [] for key in timers}
    ids = catalog.material_ids
    pairs = [(m, v) for m in methods for v in SWEEPS[m][1]]
    with connection.cursor() as cursor:
        for position in positions:
            vector = catalog.image_vectors[position]
            # A new order for every query: the first visit of an index path pays for pages
            # the next one finds in memory.
            for method, value in [pairs[i] for i in rng.permutation(len(pairs))]:
                index, timer = methods[method], timers[(method, value)]
                if method == "faiss_hnsw":
                    index.hnsw.efSearch = value
                    _, found = timer.time(lambda v=vector, i=index: i.search(v[None, :], fetch))
                    answers[(method, value)].append(ids[found[0][found[0] >= 0]].tolist())
                    continue
                prepare, run = _pg_query(cursor, catalog, index, vector, fetch)
                prepare(value)
                try:
                    answers[(method, value)].append(timer.time(run))
                finally:
                    cursor.execute("ROLLBACK")
    return timers, answers


def variants_measure(
    catalog,
    *,
    queries: int,
    seed: int,
    fetch: int,
    say: Callable[[str], None],
    skip: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Build, then time every method (but those in `skip`) at every setting on the same
    `queries` queries."""
    faiss = _faiss()
    methods, builds = _build_all(catalog, say, faiss, skip)
    rng = np.random.default_rng(seed + 11)
    positions = rng.integers(0, len(catalog.material_ids), queries).tolist()
    exact_positions = exact_top(catalog.image_vectors, catalog.image_vectors[positions])
    exact = [catalog.material_ids[row].tolist() for row in exact_positions]
    started = time.perf_counter()
    timers, answers = _timed_sweeps(catalog, methods, positions, fetch, rng)
    say(f"timed the index methods in {time.perf_counter() - started:.1f} s")
    result: dict[str, Any] = {"target_recall_at_20": TARGET_RECALL, "methods": {}}
    for method in methods:
        knob, values = SWEEPS[method]
        sweep = {
            value: {
                "recall_at_20": recall_at(answers[(method, value)], exact, RECALL_K),
                **timers[(method, value)].summary(),
            }
            for value in values
        }
        result["methods"][method] = {
            "build": builds.get(method, {}),
            "knob": knob,
            "sweep": {str(v): f for v, f in sweep.items()},
            "at_target": _best_at_target(sweep),
        }
    return result
