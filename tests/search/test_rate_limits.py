"""Issue 12, point 3: limits nobody dodges. The client's address comes only from trusted
proxies; counters are atomic with and without Redis (40 concurrent requests, a limit of 5:
exactly 5 pass); the stored-search lookup is limited; an hour window keeps its count however
long the client stays idle (the database cache used to forget it after 5 minutes)."""

import http.client
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from config.client_address import client_address, client_rate_ident
from search.ratelimit.counters import shared_counters
from search.ratelimit.windows import rate_decide

pytestmark = pytest.mark.django_db


def expected_backend() -> str:
    """Where this module's tests count: Redis (tests/search's cache), or Postgres when the
    database variant runs them (tests/reliability/test_rate_limits_database.py)."""
    return "redis"


def search(client, **headers):
    return client.post("/api/v1/search/", {"text": "oak"}, format="json", **headers)


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


def test_an_hour_window_keeps_its_count_through_a_long_idle_time():
    rates = {"hour": type("Rate", (), {"requests": 2, "seconds": 3600})()}
    start = 1_800_000_000.0  # the start of an hour window

    first = [rate_decide(ident="idle", rates=rates, now=start + i).allowed for i in range(2)]
    after_idle = rate_decide(ident="idle", rates=rates, now=start + 310)

    assert first == [True, True]
    assert not after_idle.allowed
    assert after_idle.backend == expected_backend()


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
    providers, catalog_builder, live_server, settings
):
    # given a burst limit of 5 (the minute and hour limits far away), counted in the shared
    # cache (Redis here; tests/reliability/test_rate_limits_database.py: Postgres)
    assert shared_counters().name == expected_backend()
    settings.SWATCH_SEARCH = {
        **settings.SWATCH_SEARCH,
        "RATES": {"burst": "5/60s", "minute": "100/60s", "hour": "1000/3600s"},
    }
    material = catalog_builder.add("Oak", (120, 78, 45), material_type="wood")

    # when 40 clients from one address ask at the same moment
    statuses = _concurrent(live_server.url, f"/api/v1/materials/{material.pk}/similar/", 40)

    # then exactly five are answered and the others refused
    assert sorted(statuses) == [200] * 5 + [429] * 35
