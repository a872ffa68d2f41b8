"""Searches read from a real streaming replica (`DATABASE_REPLICA_URLS`), writes and the
freshly-written reads from the primary; and what a search sees while the replica lags.

The replica is a hot standby of the embedded server the test database lives on
(tests/search/standby.py); its lag is made by pausing its WAL replay, so nothing here waits for
time, only for states (the standby caught up, the WAL received)."""

from __future__ import annotations

import copy

import pytest
from django.db import connections
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from config.replicas import (
    PIN_COOKIE,
    ReplicaPinMiddleware,
    request_scope,
    search_read_alias,
)
from materials.models import Material
from search.query import SearchQuery
from search.services.run import search_run
from tests.search.standby import (
    caught_up,
    received_not_replayed,
    replay,
    standby_start,
    standby_stop,
    wait_until,
)

REPLICA = "replica_0"
GONE = "replica_gone"
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA, GONE])


# Module-scoped and autouse: the aliases exist before the tests' databases are checked.
@pytest.fixture(scope="module", autouse=True)
def standby(django_db_setup, django_db_blocker):
    primary = connections["default"].settings_dict
    if not str(primary.get("HOST", "")).startswith("/"):
        pytest.skip("a streaming replica is made of the embedded server (DATABASE_URL is set)")
    with django_db_blocker.unblock():
        server = standby_start(primary)
    replica = copy.deepcopy(primary)
    replica.update(HOST=str(server.folder), PORT=str(server.port))
    replica["TEST"] = {"MIRROR": "default"}  # the primary's test database, copied
    gone = {**copy.deepcopy(replica), "HOST": str(server.folder / "nothing-here")}
    connections.settings[REPLICA], connections.settings[GONE] = replica, gone
    yield server
    for alias in (REPLICA, GONE):
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]
    standby_stop(server)


@pytest.fixture
def replicas(settings, standby):
    settings.SWATCH_REPLICAS = {
        "ALIASES": [REPLICA], "MAX_LAG_SECONDS": 3600, "PIN_SECONDS": 15, "LAG_CHECK_SECONDS": 0,
    }  # fmt: skip
    settings.SWATCH_SEARCH = {
        **settings.SWATCH_SEARCH, "RESULT_CACHE_SECONDS": 0, "STRATEGY_WORKERS": 0,
    }  # fmt: skip
    return settings.SWATCH_REPLICAS


def _synced(standby) -> None:
    primary = connections["default"].settings_dict
    wait_until(lambda: caught_up(primary, standby), "the standby replayed the primary's WAL")


def _found(query: SearchQuery) -> set[str]:
    answer = search_run(query=query, refine="never")
    return {result.name for result in answer.results}


def _query(material: Material) -> SearchQuery:
    return SearchQuery(material_id=material.pk, weights={"vector": 1.0}, cutoff=False)


def test_a_search_reads_the_replica_and_writes_stay_on_the_primary(
    replicas, standby, providers, catalog_builder
):
    # given a catalog written on the primary and replayed by the standby
    oak = catalog_builder.add("Oak", (150, 100, 60))
    catalog_builder.add("Walnut", (110, 70, 40))
    _synced(standby)

    # when a client that wrote nothing searches
    with request_scope(pinned=False):
        assert search_read_alias() == REPLICA
        with CaptureQueriesContext(connections[REPLICA]) as on_replica:
            found = _found(_query(oak))

    # then the replica answered it: its nearest-neighbour query ran there
    assert found == {"Walnut"}
    assert any("analysis_embedding" in q["sql"] for q in on_replica.captured_queries)
    # and a write is the primary's (the standby refuses writes)
    with request_scope(pinned=False):
        Material.objects.filter(pk=oak.pk).update(name="Oak, oiled")
        assert search_read_alias() == "default"
    with connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone()[0] is True


def test_what_a_search_sees_while_the_replica_lags(replicas, standby, providers, catalog_builder):
    # given a catalog on both, then the standby's replay paused and a material added meanwhile
    oak = catalog_builder.add("Oak", (150, 100, 60))
    catalog_builder.add("Walnut", (110, 70, 40))
    _synced(standby)
    database = connections["default"].settings_dict["NAME"]
    replay(standby, database, paused=True)
    try:
        catalog_builder.add("Teak", (152, 101, 61))
        primary = connections["default"].settings_dict
        wait_until(lambda: received_not_replayed(primary, standby), "WAL waiting for replay")

        # then another client's search, on the replica within the allowed lag, misses it
        with request_scope(pinned=False):
            assert _found(_query(oak)) == {"Walnut"}
        # the request that wrote it finds it (its searches read the primary)
        with request_scope(pinned=False):
            Material.objects.filter(name="Teak").update(category="wood")
            assert _found(_query(oak)) == {"Walnut", "Teak"}
        # so does its client's next request, pinned to the primary by its cookie
        with request_scope(pinned=True):
            assert _found(_query(oak)) == {"Walnut", "Teak"}
        # and a replica further behind than SWATCH_REPLICA_MAX_LAG_SECONDS is left out
        replicas["MAX_LAG_SECONDS"] = 0
        with request_scope(pinned=False):
            assert search_read_alias() == "default"
            assert _found(_query(oak)) == {"Walnut", "Teak"}
    finally:
        replay(standby, database, paused=False)

    # once the standby has replayed it, the replica's searches find it too
    replicas["MAX_LAG_SECONDS"] = 3600
    _synced(standby)
    with request_scope(pinned=False):
        assert search_read_alias() == REPLICA
        assert _found(_query(oak)) == {"Walnut", "Teak"}


def test_a_replica_that_does_not_answer_is_left_out(replicas, standby, providers, catalog_builder):
    oak = catalog_builder.add("Oak", (150, 100, 60))
    catalog_builder.add("Walnut", (110, 70, 40))
    replicas["ALIASES"] = [GONE]

    with request_scope(pinned=False):
        assert search_read_alias() == "default"
        assert _found(_query(oak)) == {"Walnut"}


def test_a_request_that_changes_the_catalog_pins_its_client_to_the_primary(
    replicas, standby, catalog_builder
):
    oak = catalog_builder.add("Oak", (150, 100, 60))

    def writes(request):
        Material.objects.filter(pk=oak.pk).update(name="Oak, oiled")
        return HttpResponse("ok")

    def reads(request):
        assert search_read_alias() == ("default" if PIN_COOKIE in request.COOKIES else REPLICA)
        return HttpResponse(str(Material.objects.get(pk=oak.pk).name))

    factory = RequestFactory()
    wrote = ReplicaPinMiddleware(writes)(factory.post("/"))
    read = ReplicaPinMiddleware(reads)(factory.get("/"))
    factory.cookies[PIN_COOKIE] = wrote.cookies[PIN_COOKIE].value
    pinned = ReplicaPinMiddleware(reads)(factory.get("/"))

    assert wrote.cookies[PIN_COOKIE]["max-age"] == 15
    assert PIN_COOKIE not in read.cookies  # a read changes nothing, pins nobody
    assert pinned.content == b"Oak, oiled"  # not a search: the primary's, in any case
