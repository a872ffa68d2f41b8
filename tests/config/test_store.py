"""The shared store's contract (config/store/protocol.py), run on both implementations: the
real Redis (127.0.0.1:6379) and our own table in the real Postgres. Each test runs under a
key prefix of its own."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from config.errors.outages import CACHE_ERRORS
from config.store import store
from tests.fakes.caches import REDIS_URL, cache_settings
from tests.fakes.processes import run_django


@pytest.fixture(params=["database", "redis"])
def kind(request, settings, db):
    prefix = f"swatch-test-store-{uuid.uuid4().hex[:12]}"
    settings.CACHES = cache_settings(request.param, prefix)
    yield request.param
    store().clear()


def test_the_store_is_chosen_once_from_settings(kind):
    assert store() is store()
    assert store().name == kind
    assert store().uses_database is (kind == "database")


def test_values_are_read_back_and_expired_ones_are_not(kind):
    answer = {"results": [1, 2, 3], "vector": [0.25, 0.5]}
    store().set_many([("answer", answer, 300), ("state", ("q", 1.5), None), ("gone", "x", -1)])

    assert store().get_many(["answer", "state", "gone", "missing"]) == {
        "answer": answer,
        "state": ("q", 1.5),
    }


def test_a_lookup_reads_and_saves_together(kind):
    store().set_many([("revision", 7, None)])

    found = store().lookup(["revision", "answer"], save=[("query", {"text": "oak"}, 60)])

    assert found == {"revision": 7}
    assert store().get_many(["query"]) == {"query": {"text": "oak"}}


def test_add_writes_only_a_missing_or_expired_key(kind):
    assert store().add("trial", 1, 60)
    assert not store().add("trial", 2, 60)
    store().set_many([("old", "x", -1)])
    assert store().add("old", "y", None)
    assert store().get_many(["trial", "old"]) == {"trial": 1, "old": "y"}


def test_deleted_keys_are_gone(kind):
    store().set_many([("a", 1, None), ("b", "two", 60), ("c", 3, 60)])
    store().delete_many(["a", "b"])
    assert store().get_many(["a", "b", "c"]) == {"c": 3}


def test_counters_count_from_one_and_are_read_as_ints(kind):
    first = store().hit([("window:1", 60), ("forever", None)], ["window:0"])
    second = store().hit([("window:1", 60)], ["forever", "window:0"])

    assert (first.incremented, first.read) == ([1, 1], [0])
    assert (second.incremented, second.read) == ([2], [1, 0])
    assert store().get_many(["window:1", "forever"]) == {"window:1": 2, "forever": 1}
    store().set_many([("revision", 41, None)])
    assert store().hit([("revision", None)]).incremented == [42]


def test_a_hit_taken_back_is_not_counted_and_a_count_never_reads_below_zero(kind):
    store().hit([("k", 60)])
    store().hit([("k", 60)])
    store().unhit(["k", "never-hit"])

    assert store().peek(["k", "never-hit", "missing"]) == [1, 0, 0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", ["database", "redis"])
def test_forty_concurrent_hits_count_forty_distinct_numbers(backend, settings):
    settings.CACHES = cache_settings(backend, f"swatch-test-store-{uuid.uuid4().hex[:12]}")
    start = threading.Barrier(8)

    def hits() -> list[int]:
        start.wait()
        try:
            return [store().hit([("burst", 60)]).incremented[0] for _ in range(5)]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = sorted(c for batch in pool.map(lambda _: hits(), range(8)) for c in batch)

    assert counts == list(range(1, 41))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", ["database", "redis"])
def test_another_process_sees_the_same_entries(backend, settings):
    prefix = f"swatch-test-store-{uuid.uuid4().hex[:12]}"
    settings.CACHES = cache_settings(backend, prefix)
    store().set_many([("shared", {"seen": True}, 60)])
    store().hit([("count", 60)])
    env = {"SWATCH_CACHE_PREFIX": prefix}
    if backend == "redis":
        env["REDIS_URL"] = REDIS_URL

    code = (
        "from config.store import store\n"
        "counted = store().hit([('count', 60)]).incremented\n"
        "print(store().name, store().get_many(['shared']), counted)\n"
    )
    assert run_django(code, env=env) == f"{backend} {{'shared': {{'seen': True}}}} [2]"


def test_without_redis_each_operation_is_one_statement(settings, db, django_assert_num_queries):
    settings.CACHES = cache_settings("database", f"swatch-test-store-{uuid.uuid4().hex[:12]}")
    with django_assert_num_queries(1):
        store().lookup(["a", "b"], save=[("c", {"x": 1}, 60), ("d", 2, None)])
    with django_assert_num_queries(1):
        store().hit([("w:1", 60), ("w:2", 60)], ["w:0"])
    with django_assert_num_queries(1):
        store().set_many([("e", 1, 60), ("f", [1.0], 60)])


def test_without_redis_a_counter_restarts_once_its_window_is_past(settings, db):
    settings.CACHES = cache_settings("database", f"swatch-test-store-{uuid.uuid4().hex[:12]}")
    assert store().hit([("w", 10)], now=1000.0).incremented == [1]
    # a later hit inside the window does not move its end
    assert store().hit([("w", 10)], now=1009.0).incremented == [2]
    assert store().peek(["w"], now=1009.5) == [2]
    assert store().peek(["w"], now=1010.5) == [0]
    assert store().hit([("w", 10)], now=1010.5).incremented == [1]


def test_clear_deletes_only_its_own_prefix(kind, settings):
    store().set_many([("mine", 1, 60), ("also:mine", {"x": 1}, None)])
    mine = settings.CACHES
    settings.CACHES = cache_settings(kind, f"{mine['default']['KEY_PREFIX']}_other")
    store().set_many([("theirs", 2, 60)])
    settings.CACHES = mine

    store().clear()

    assert store().get_many(["mine", "also:mine"]) == {}
    settings.CACHES = cache_settings(kind, f"{mine['default']['KEY_PREFIX']}_other")
    assert store().get_many(["theirs"]) == {"theirs": 2}
    store().clear()
    settings.CACHES = mine


def test_the_table_is_unlogged(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'swatch_store'")
        assert cursor.fetchone() == ("u",)


def test_an_unreachable_redis_raises_the_outage_errors(settings):
    settings.CACHES = cache_settings("redis", "swatch-test-store-down")
    settings.CACHES["default"]["LOCATION"] = "redis://127.0.0.1:9/0"  # nothing listens there
    with pytest.raises(CACHE_ERRORS):
        store().get_many(["a"])
    with pytest.raises(CACHE_ERRORS):
        store().hit([("a", 1)])
