"""Strategies side by side: each on a worker thread with a connection of its own, the same
answer as one after the other, and never outside a caller's transaction."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from search.query import SearchQuery
from search.services import strategy_lists
from search.services.run import search_run
from search.side_by_side import side_by_side, side_by_side_close
from tests.search.catalog_support import COLORS


def _backend() -> tuple[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return threading.current_thread().name, cursor.fetchone()[0]


def _slow_backend() -> tuple[str, int, float, float]:
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(0.3)")
    return *_backend(), started, time.monotonic()


@pytest.mark.django_db(transaction=True)
def test_tasks_run_at_once_each_on_its_own_connection():
    # when three tasks that each wait 0.3 s in Postgres run side by side on two workers
    results = side_by_side({"a": _slow_backend, "b": _slow_backend, "c": _slow_backend}, workers=2)

    # then the first ran in this thread, the others on worker threads, each on its own backend
    assert results["a"][0] == threading.current_thread().name
    workers = {results["b"][0], results["c"][0]}
    assert len(workers) == 2
    assert all(name.startswith("swatch-strategy") for name in workers)
    assert len({r[1] for r in results.values()}) == 3
    # and they overlapped: each started before any had finished
    assert max(r[2] for r in results.values()) < min(r[3] for r in results.values())


@pytest.mark.django_db(transaction=True)
def test_a_workers_error_reaches_the_caller():
    def broken():
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    with pytest.raises(Exception, match="no_such_table"):
        side_by_side({"fine": _backend, "broken": broken}, workers=2)
    # and the worker still serves the next search
    assert side_by_side({"a": _backend, "b": _backend}, workers=2)["b"][1] != _backend()[1]


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_everything_runs_in_the_callers_thread():
    with transaction.atomic():
        results = side_by_side({"a": _backend, "b": _backend}, workers=2)
    me = (threading.current_thread().name, results["a"][1])
    assert results == {"a": me, "b": me}


def _threads_of_strategies(monkeypatch) -> dict[str, str]:
    """Which thread ran each of a search's strategies, filled as they run: the search's own
    `side_by_side`, each task noting its thread before it runs."""
    threads: dict[str, str] = {}

    def noted(name, task):
        def run():
            threads[name] = threading.current_thread().name
            return task()

        return run

    def noting(tasks, *, workers):
        return side_by_side(
            {name: noted(name, task) for name, task in tasks.items()}, workers=workers
        )

    monkeypatch.setattr(strategy_lists, "side_by_side", noting)
    return threads


@pytest.mark.django_db(transaction=True)
def test_a_fused_search_answers_the_same_side_by_side(
    catalog_builder, providers, settings, monkeypatch
):
    # given a committed catalog (the workers' connections see only committed rows)
    materials = [
        catalog_builder.add(name, rgb, material_type="wood" if "brown" in name else "stone")
        for name, rgb in COLORS.items()
    ]
    query = SearchQuery(material_id=materials[0].pk, limit=5)

    def answer(workers: int):
        settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "STRATEGY_WORKERS": workers,
                                  "RESULT_CACHE_SECONDS": 0}  # fmt: skip
        threads = _threads_of_strategies(monkeypatch)
        return search_run(query=query, refine="never"), threads

    # when "more like this" runs with its strategies one after the other, then side by side
    alone, alone_threads = answer(0)
    together, together_threads = answer(2)

    # then the same ranking with the same scores, from the image and description vectors
    assert alone.results
    assert [(r.material_id, r.scores) for r in together.results] == [
        (r.material_id, r.scores) for r in alone.results
    ]
    assert all(r.scores["vector"] is not None for r in together.results)
    assert any(r.scores["semantic"] is not None for r in together.results)
    # and alone this thread ran both searches; side by side a worker ran the description one
    me = threading.current_thread().name
    assert (alone_threads["vector"], alone_threads["semantic"]) == (me, me)
    assert together_threads["vector"] == me
    assert together_threads["semantic"].startswith("swatch-strategy")


@pytest.mark.django_db(transaction=True)
def test_closing_stops_the_workers():
    side_by_side({"a": lambda: 1, "b": lambda: 2}, workers=1)
    side_by_side_close()
    assert not [t for t in threading.enumerate() if t.name.startswith("swatch-strategy")]


@pytest.mark.django_db(transaction=True)
def test_without_redis_the_answer_is_cached_by_a_worker_on_its_own_connection(settings):
    from config.store import store
    from search.background import background_wait
    from search.state import QueryState, answer_lookup, query_cache_save

    redis = settings.CACHES
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "swatch_cache",
            "KEY_PREFIX": "side-by-side",
        }
    }
    try:
        # given a lookup that missed, outside any transaction
        state = QueryState(query_id="q-bg", text="cork")
        lookup = answer_lookup(state=state, state_ttl=60)
        with CaptureQueriesContext(connection) as captured:
            # when the answer is cached in the background
            query_cache_save(answer_key=lookup.key, answer={"a": 1}, answer_ttl=60,
                             background=True)  # fmt: skip
            background_wait()
        # then this connection sent nothing, and the store has it
        assert len(captured) == 0
        assert store().get_many([lookup.key]) == {lookup.key: {"a": 1}}
    finally:
        settings.CACHES = redis  # the Redis fixture cleans up after itself
