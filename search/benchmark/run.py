"""`bench_search`: latency of the pgvector query, the search service and the HTTP API on a
temporary synthetic catalog, recall against an exact scan, and ingestion throughput.

Every query is "more like this" for a random material of the synthetic catalog (its vector is
stored: nothing is embedded while timing). The four paths run interleaved, query by query, each
on its own random sample, so a load burst from another process hits them alike and the ratios
of one run compare like with like:

- `raw_sql`: the vector strategy's nearest-neighbour SQL (same LIMIT, same `hnsw.ef_search`)
  with the query vector in hand as a parameter, executed and fetched — the pgvector query alone
  (the service reads the material's vector by id inside it, and its result rows along);
- `vector`: `search_run` with only the vector strategy weighted;
- `fused`: `search_run` with the default weights and fusion (all strategies);
- `api`: `POST /api/v1/search/ {"material_id": …}` to the project's WSGI app on 127.0.0.1.

Measured as production runs: DEBUG off (no query log), the configured cache under a key prefix
of this run (deleted afterwards), rate limits lifted (the throttle still counts every request).
"""

from __future__ import annotations

import os
import platform
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import OperationalError
from django.test.utils import override_settings
from psycopg import errors

from analysis.vector_indexes import hnsw_build_options
from config.store import store
from search.background import background_wait
from search.benchmark import synthetic
from search.benchmark.claims import (
    lock_holders,
    synthetic_catalogs_abandoned_drop,
    synthetic_run_claimed,
)
from search.benchmark.filtered import filtered_measure
from search.benchmark.ingest import ingest_benchmark
from search.benchmark.live_server import live_server
from search.benchmark.paths import (
    LIMIT,
    BenchmarkError,
    StoredVectorsOnly,
    default_fetch,
    timed_paths,
)
from search.benchmark.recall import RECALL_K, exact_top, recall_at
from search.benchmark.resources import resources_measure
from search.benchmark.synthetic import (
    SyntheticCatalog,
    synthetic_catalog_drop,
    synthetic_catalog_load,
)
from search.benchmark.timing import Latencies
from search.benchmark.variants import variants_measure
from search.conf import search_config
from search.providers import SearchProviders, providers_override

__all__ = ["BenchmarkError", "search_benchmark"]
WARMUP = 20


def _measure(
    catalog: SyntheticCatalog, *, queries: int, seed: int, say: Callable[[str], None]
) -> dict[str, Any]:
    config = search_config()
    rng = np.random.default_rng(seed + 1)
    n = len(catalog.material_ids)
    timers = {name: Latencies() for name in ("raw_sql", "vector", "fused", "api")}
    with live_server() as server:
        paths = timed_paths(catalog, server, timers, config)
        warmup = rng.integers(0, n, WARMUP)
        for i in warmup.tolist():
            for call in paths.values():
                call(i)
        for timer in timers.values():
            timer.samples.clear()
        samples = {name: rng.integers(0, n, queries) for name in paths}
        answers: dict[str, list] = {name: [] for name in paths}
        started = time.perf_counter()
        for q in range(queries):
            for name, call in paths.items():
                answers[name].append(call(int(samples[name][q])))
        say(f"timed {queries} queries × 4 paths in {time.perf_counter() - started:.1f} s")
    empty = [name for name in ("vector", "fused") if not any(a.results for a in answers[name])]
    if empty:
        raise BenchmarkError(f"the search service found nothing for the {', '.join(empty)} path")

    started = time.perf_counter()
    positions = samples["raw_sql"].tolist()
    exact_positions = exact_top(catalog.image_vectors, catalog.image_vectors[positions], k=RECALL_K)
    exact = [catalog.material_ids[row].tolist() for row in exact_positions]
    say(f"exact scans for recall in {time.perf_counter() - started:.1f} s")
    approximate = [[row[0] for row in rows] for rows in answers["raw_sql"]]
    return {
        "recall_at_20": recall_at(approximate, exact),
        **{name: timer.summary() for name, timer in timers.items()},
    }


def _ratio(result: dict[str, Any], name: str) -> float | None:
    base = result["raw_sql"]["p95_ms"]
    return round(result[name]["p95_ms"] / base, 2) if base else None


def _lock_waited_too_long(exc: BaseException) -> bool:
    return isinstance(exc, errors.LockNotAvailable) or isinstance(
        exc.__cause__, errors.LockNotAvailable
    )


def search_benchmark(
    *,
    items: int,
    queries: int,
    ingest_paths: list[Path],
    seed: int = 0,
    variants: frozenset[str] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The figures of DESIGN.md's `bench_search` contract, from a synthetic catalog loaded for
    this run and removed after it. With `variants` (index methods to leave out, maybe none),
    the index methods are compared too."""
    try:
        return _search_benchmark(
            items=items, queries=queries, ingest_paths=ingest_paths, seed=seed,
            variants=variants, on_progress=on_progress,
        )  # fmt: skip
    except (errors.LockNotAvailable, OperationalError) as exc:
        if not _lock_waited_too_long(exc):
            raise
        holders = "; ".join(lock_holders()) or "a session that has ended since"
        waited = synthetic.LOCK_TIMEOUT_SECONDS
        raise BenchmarkError(
            f"waited {waited} s for a lock on the catalog's tables, held by {holders}. Let it "
            "finish or stop it, then run again (a synthetic catalog left behind is removed by "
            "the next run)."
        ) from exc


def _measure_all(
    catalog: SyntheticCatalog, *, queries: int, seed: int, variants: frozenset[str] | None, say
) -> dict[str, Any]:
    """Every figure of a loaded catalog: the four paths and recall, filtered search, what it
    occupies and, with `variants`, the index methods side by side."""
    image, text = catalog.image_index, catalog.text_index
    providers = SearchProviders(
        image_embedder=StoredVectorsOnly(model=image.model, dimensions=image.dimensions),
        text_embedder=StoredVectorsOnly(model=text.model, dimensions=text.dimensions),
        describer=None,
    )
    with providers_override(providers):
        result = _measure(catalog, queries=queries, seed=seed, say=say)
        result.update(filtered_measure(catalog, queries=queries, seed=seed, limit=LIMIT, say=say))
    result["resources"] = resources_measure(catalog)
    if variants is not None:
        fetch = default_fetch(search_config())
        result["index_methods"] = variants_measure(
            catalog, queries=queries, seed=seed, fetch=fetch, say=say, skip=variants
        )
        result["resources"] = resources_measure(catalog)
    return result


def _machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        # The machine is shared: how busy it was when the run ended (1, 5, 15 minutes).
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _search_benchmark(
    *,
    items: int,
    queries: int,
    ingest_paths: list[Path],
    seed: int = 0,
    variants: frozenset[str] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    if items < RECALL_K + 1 or queries < 1:
        raise BenchmarkError(f"need --items > {RECALL_K} and --queries ≥ 1.")
    say = on_progress or (lambda message: None)
    run = uuid.uuid4().hex[:8]
    prefix = f"bench-search-{run}"
    caches = {**settings.CACHES, "default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}
    unlimited = {name: "1000000/1s" for name in settings.SWATCH_SEARCH.get("RATES", {})}
    search_settings = {**settings.SWATCH_SEARCH, "RATES": unlimited}
    catalog = SyntheticCatalog(run=run)
    started = time.perf_counter()
    for abandoned in synthetic_catalogs_abandoned_drop():
        say(f"removed the catalog of an earlier run that did not finish ({abandoned})")
    with (
        synthetic_run_claimed(catalog),
        override_settings(DEBUG=False, CACHES=caches, SWATCH_SEARCH=search_settings),
    ):
        try:
            synthetic_catalog_load(items=items, seed=seed, on_progress=say, catalog=catalog)
            result: dict[str, Any] = {"items": items, "queries": queries}
            result.update(
                _measure_all(catalog, queries=queries, seed=seed, variants=variants, say=say)
            )
            say("measuring ingestion")
            result.update(ingest_benchmark(paths=ingest_paths))
        finally:
            say("cleaning up")
            synthetic_catalog_drop(catalog=catalog)
            background_wait()  # answers still being cached land before their keys go
            store().clear()  # the run's answers, query states and rate counters, only those
    result["p95_over_raw_sql"] = {name: _ratio(result, name) for name in ("vector", "fused", "api")}
    result["config"] = _config(catalog)
    result["index_builds"] = catalog.index_builds
    result["seconds"] = {**catalog.seconds, "total": round(time.perf_counter() - started, 1)}
    result["machine"] = _machine()
    return result


def _config(catalog: SyntheticCatalog) -> dict[str, Any]:
    config = search_config()
    m, ef_construction = hnsw_build_options()  # what the catalog's indexes were built with
    return {
        "dimensions": catalog.image_index.dimensions,
        "index_method": catalog.image_index.method,
        "hnsw": {
            "m": m,
            "ef_construction": ef_construction,
            "ef_search": config.ef_search,
            "semantic_ef_search": config.semantic_ef_search,
        },
        "build_memory": synthetic.build_memory(len(catalog.material_ids)),
        "candidates": config.candidates,
        "fusion": config.fusion,
        "weights": config.weights,
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
    }
