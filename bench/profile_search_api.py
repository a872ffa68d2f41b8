"""Where a `POST /api/v1/search/` spends its time beyond the pgvector query, and what a cut saves.

    SWATCH_ENV=development nice -n 10 python bench/profile_search_api.py [--items 10000]
        [--queries 300] [--profile 300] [--json bench/results/api_overhead.json]

On a temporary synthetic catalog (`bench_search`'s, same settings: DEBUG off, the configured
cache under a key prefix of this run, rate limits lifted), query by query and interleaved:
`raw_sql` (the pgvector query alone), `fused` (`search_run`, every strategy), `api` (the HTTP
API on 127.0.0.1, as `bench_search` times it) and `api_before` — the same request served
as before the cuts of 2026-12-04: the answer rendered by a `SearchAnswerSerializer` built for
it (not `answer_rendered`, search/api/rendering.py), the private catalogs and the material's
visibility read through the ORM (not plain SQL). Each path has a random sample of its own
(as in `bench_search`): a path never finds the answer another just cached. With
`--profile N`, N more requests through Django's test client under cProfile, the top
functions by cumulative time printed. (Earlier cuts are in the README.)
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
PATHS = ("raw_sql", "fused", "api", "api_before")


def _rendered_as_before(answer) -> dict:
    from search.api.serializers import SearchAnswerSerializer

    return SearchAnswerSerializer(answer).data


def _private_catalogs_as_before() -> dict[int, str]:
    from access.models import PrivateCatalog

    return dict(PrivateCatalog.objects.values_list("catalog_id", "catalog__name"))


def _visible_as_before(*, material_id: int, hidden_catalogs: tuple[int, ...] = ()) -> None:
    from materials.models import Material
    from search.errors import SearchError

    found = Material.objects.filter(pk=material_id).exclude(catalog_id__in=hidden_catalogs)
    if not found.exists():
        raise SearchError("not_found", "No such material.", field="material_id", status=404)


class _Before:
    """The request as served before this session's cuts, for the length of one request."""

    def __enter__(self) -> None:
        import access.selectors as access
        import search.api.views as views

        self.saved = (
            views.answer_rendered,
            views.material_visible_require,
            access._private_catalogs,
        )
        views.answer_rendered = _rendered_as_before
        views.material_visible_require = _visible_as_before
        access._private_catalogs = _private_catalogs_as_before

    def __exit__(self, *exc: object) -> None:
        import access.selectors as access
        import search.api.views as views

        (views.answer_rendered, views.material_visible_require, access._private_catalogs) = (
            self.saved
        )


def _timed(catalog, server, queries: int) -> dict:
    import numpy as np

    from search.benchmark.paths import timed_paths
    from search.benchmark.timing import Latencies
    from search.conf import search_config

    timers = {name: Latencies() for name in PATHS}
    spare = {name: Latencies() for name in ("raw_sql", "vector", "fused")}
    paths = timed_paths(catalog, server, {**timers, "vector": Latencies()}, search_config())
    before = timed_paths(catalog, server, {**spare, "api": timers["api_before"]}, search_config())

    def api_before(i: int) -> object:
        with _Before():
            return before["api"](i)

    calls = {"raw_sql": paths["raw_sql"], "fused": paths["fused"], "api": paths["api"],
             "api_before": api_before}  # fmt: skip
    rng = np.random.default_rng(1)
    n = len(catalog.material_ids)
    for i in rng.integers(0, n, 20).tolist():  # warm-up
        for call in calls.values():
            call(i)
    for timer in timers.values():
        timer.samples.clear()
    for k, row in enumerate(rng.integers(0, n, (queries, len(PATHS))).tolist()):
        # api and api_before swap places every query: neither always follows the other
        order = PATHS if k % 2 == 0 else ("raw_sql", "fused", "api_before", "api")
        for name in order:
            calls[name](row[PATHS.index(name)])
    return {name: timer.summary() for name, timer in timers.items()}


def _profile(catalog, count: int) -> str:
    import numpy as np
    from django.test import Client

    from search.benchmark.paths import API_PATH

    client = Client(SERVER_NAME="127.0.0.1")
    ids = catalog.material_ids.tolist()
    sample = np.random.default_rng(2).integers(0, len(ids), count).tolist()
    profiler = cProfile.Profile()
    profiler.enable()
    for i in sample:
        client.post(API_PATH, {"material_id": ids[i]}, content_type="application/json")
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
    return out.getvalue()


def _run(args) -> dict:
    from django.conf import settings
    from django.test.utils import override_settings

    from search.benchmark.live_server import live_server
    from search.benchmark.paths import StoredVectorsOnly
    from search.benchmark.synthetic import (
        SyntheticCatalog,
        synthetic_catalog_drop,
        synthetic_catalog_load,
    )
    from search.providers import SearchProviders, providers_override

    run = uuid.uuid4().hex[:8]
    cache = {**settings.CACHES["default"], "KEY_PREFIX": f"bench-search-{run}"}
    rates = {name: "1000000/1s" for name in settings.SWATCH_SEARCH.get("RATES", {})}
    catalog = SyntheticCatalog(run=run)
    with override_settings(
        DEBUG=False,
        CACHES={**settings.CACHES, "default": cache},
        SWATCH_SEARCH={**settings.SWATCH_SEARCH, "RATES": rates},
    ):
        try:
            synthetic_catalog_load(items=args.items, seed=0, catalog=catalog)
            image, text = catalog.image_index, catalog.text_index
            providers = SearchProviders(
                image_embedder=StoredVectorsOnly(model=image.model, dimensions=image.dimensions),
                text_embedder=StoredVectorsOnly(model=text.model, dimensions=text.dimensions),
                describer=None,
            )
            with providers_override(providers), live_server() as server:
                figures = _timed(catalog, server, args.queries)
                if args.profile:
                    print(_profile(catalog, args.profile), file=sys.stderr)
        finally:
            synthetic_catalog_drop(catalog=catalog)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--json", type=Path, default=BASE_DIR / "bench/results/api_overhead.json")
    args = parser.parse_args()
    import django

    django.setup()
    from config.interpreter import gil_switch_shortened

    gil_switch_shortened()
    load_before = [round(x, 2) for x in os.getloadavg()]
    figures = _run(args)
    p95 = {name: figures[name]["p95_ms"] for name in PATHS}
    result = {
        "items": args.items,
        "queries": args.queries,
        **figures,
        "api_minus_raw_sql_p95_ms": round(p95["api"] - p95["raw_sql"], 2),
        "api_minus_fused_p95_ms": round(p95["api"] - p95["fused"], 2),
        "fused_minus_raw_sql_p95_ms": round(p95["fused"] - p95["raw_sql"], 2),
        "api_before_minus_raw_sql_p95_ms": round(p95["api_before"] - p95["raw_sql"], 2),
        "api_saved_p50_ms": round(figures["api_before"]["p50_ms"] - figures["api"]["p50_ms"], 2),
        "api_saved_p95_ms": round(p95["api_before"] - p95["api"], 2),
        "load_average": {"start": load_before, "end": [round(x, 2) for x in os.getloadavg()]},
        "command": " ".join(["bench/profile_search_api.py", *sys.argv[1:]]),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
