"""Issue 12, point 3: limits nobody dodges. The client's address comes only from trusted
proxies; counters are atomic with and without Redis (40 concurrent requests, a limit of 5:
exactly 5 pass, on both backends); the stored-search lookup is limited; an hour window keeps
its count however long the client stays idle (the database cache used to forget it after 5
minutes)."""

import http.client
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import RequestFactory
from rest_framework.test import APIClient

from config.client_address import client_address, client_rate_ident
from search.ratelimit.counters import shared_counters
from search.ratelimit.windows import rate_decide
from tests.fakes.caches import cache_settings

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["redis", "database"])
def counted_in(request, settings, django_db_blocker):
    """The limits counted in Redis or, as the default setup does without it, in Postgres (the
    shared store's UNLOGGED `swatch_store`, config/store/database.py)."""
    if request.param == "redis":  # tests/search's own cache (conftest.py), this run's prefix
        yield request.param
        return
    redis = settings.CACHES
    settings.CACHES = cache_settings("database", f"swatch-test-{uuid.uuid4().hex[:12]}")
    yield request.param
    settings.CACHES = redis  # for conftest.py's clean-up of this run's Redis keys
    # Counts committed by a live server (transactional tests) must not leak into the next.
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM swatch_store")


def search(client, **headers):
    return client.post("/api/v1/search/", {"text": "oak"}, format="json", **headers)


@pytest.mark.usefixtures("counted_in")
def test_a_rotating_x_forwarded_for_does_not_reset_the_limit(providers, sample_catalog):
    client = APIClient()
    statuses = [
        search(client, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code for i in range(30)
    ]

    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429] * 25


def test_behind_a_trusted_proxy_the_forwarded_client_is_limited(
    providers, sample_catalog, settings
):
    # given Swatch behind a proxy on 127.0.0.1 that appends the client it saw
    settings.TRUSTED_PROXIES = ("127.0.0.1",)
    client = APIClient()

    # when one client (a fixed last hop) sends made-up addresses in front of it
    one_client = [
        search(client, HTTP_X_FORWARDED_FOR=f"10.9.9.{i}, 198.51.100.7").status_code
        for i in range(6)
    ]
    # and then another client comes through the same proxy
    other = search(client, HTTP_X_FORWARDED_FOR="198.51.100.8").status_code

    assert one_client == [200] * 5 + [429]
    assert other == 200


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        ("192.0.2.1", "203.0.113.9", (), "192.0.2.1"),  # no proxy trusted: the socket
        ("192.0.2.1", "203.0.113.9", ("127.0.0.1",), "192.0.2.1"),  # not from the proxy
        ("127.0.0.1", "203.0.113.9", ("127.0.0.1",), "203.0.113.9"),
        ("127.0.0.1", "6.6.6.6, 203.0.113.9", ("127.0.0.1",), "203.0.113.9"),
        ("10.0.0.2", "203.0.113.9, 10.0.0.3", ("10.0.0.0/8",), "203.0.113.9"),
        ("10.0.0.2", "garbage, 10.0.0.3", ("10.0.0.0/8",), "10.0.0.3"),
        ("10.0.0.2", "", ("10.0.0.0/8",), "10.0.0.2"),
        ("127.0.0.1", "[2001:db8::1]:443", ("127.0.0.1",), "2001:db8::1"),
    ],
)
def test_client_address_trusts_only_configured_proxies(
    settings, remote, forwarded, trusted, expected
):
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request) == expected


def test_an_ipv6_client_is_limited_by_its_64_prefix():
    assert client_rate_ident("2001:db8:1:2:aaaa::1") == client_rate_ident("2001:db8:1:2::ffff")
    assert client_rate_ident("2001:db8:1:3::1") != client_rate_ident("2001:db8:1:2::1")
    assert client_rate_ident("::ffff:192.0.2.4") == "192.0.2.4"


def test_the_stored_search_lookup_is_limited(providers, sample_catalog, settings):
    settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "LOOKUP_RATES": {"lookup": "3/60s"}}
    client = APIClient()
    query_id = search(client).json()["query_id"]

    statuses = [client.get(f"/api/v1/search/{query_id}/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    refused = client.get(f"/api/v1/search/{query_id}/")
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused["Retry-After"]) >= 1


def test_the_page_refinement_poll_is_limited_too(providers, sample_catalog, settings):
    settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "LOOKUP_RATES": {"lookup": "2/60s"}}
    client = APIClient()
    query_id = search(client).json()["query_id"]

    statuses = [client.get(f"/search/results/?q={query_id}").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_an_hour_window_keeps_its_count_through_a_long_idle_time(counted_in):
    rates = {"hour": type("Rate", (), {"requests": 2, "seconds": 3600})()}
    start = 1_800_000_000.0  # the start of an hour window

    first = [rate_decide(ident="idle", rates=rates, now=start + i).allowed for i in range(2)]
    after_idle = rate_decide(ident="idle", rates=rates, now=start + 310)

    assert first == [True, True]
    assert not after_idle.allowed
    assert after_idle.backend == counted_in


def _concurrent(url: str, path: str, n: int) -> list[int]:
    parts = urlsplit(url)
    barrier = threading.Barrier(n)

    def one(_):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        try:
            connection.connect()
            barrier.wait()
            connection.request("GET", path)
            return connection.getresponse().status
        finally:
            connection.close()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_forty_concurrent_requests_against_a_limit_of_five_admit_exactly_five(
    providers, catalog_builder, live_server, settings, counted_in
):
    # given a burst limit of 5 (the minute and hour limits far away), counted in the shared
    # store
    assert shared_counters().name == counted_in
    settings.SWATCH_SEARCH = {
        **settings.SWATCH_SEARCH,
        "RATES": {"burst": "5/60s", "minute": "100/60s", "hour": "1000/3600s"},
    }
    material = catalog_builder.add("Oak", (120, 78, 45), material_type="wood")

    # when 40 clients from one address ask at the same moment
    statuses = _concurrent(live_server.url, f"/api/v1/materials/{material.pk}/similar/", 40)

    # then exactly five are answered and the others refused
    assert sorted(statuses) == [200] * 5 + [429] * 35
