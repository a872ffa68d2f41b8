"""Issue 14: limits shared by two server processes (gunicorn, as deployed), with and without
Redis, including an hour window after more than five idle minutes: a clock file both processes
read (config/clock.py) moves time, nothing sleeps."""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from config.clock import clock_set
from materials.services import catalog_get_or_create
from tests.fakes.servers import gunicorn_server, post_json

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["database", "redis"])
def node_env(request, tmp_path):
    env = {
        "SWATCH_TEST_CLOCK_FILE": str(tmp_path / "clock"),
        "SWATCH_SEARCH_RATE_BURST": "1000/10s",
        "SWATCH_SEARCH_RATE_MINUTE": "1000/60s",
        "SWATCH_SEARCH_RATE_HOUR": "3/3600s",
        "SWATCH_LOG_LEVEL": "WARNING",
    }
    prefix = f"swatch-test-limits-{uuid.uuid4().hex[:10]}"
    if request.param == "redis":
        env |= {"REDIS_URL": REDIS_URL, "SWATCH_CACHE_PREFIX": prefix, "SWATCH_Q_NAME": prefix}
    yield env
    if request.param == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)


def test_two_processes_share_the_hour_window_through_a_long_idle_time(node_env, tmp_path):
    catalog = catalog_get_or_create(name=f"empty-{uuid.uuid4().hex[:8]}").name
    hour = (int(time.time()) // 3600 + 1) * 3600  # the next hour window, from its start
    clock = node_env["SWATCH_TEST_CLOCK_FILE"]
    clock_set(clock, hour + 10)
    payload = {"text": "oak", "filters": {"catalog": catalog}}
    with (
        gunicorn_server(env=node_env, log=tmp_path / "a.log") as a,
        gunicorn_server(env=node_env, log=tmp_path / "b.log") as b,
    ):
        first = [post_json(f"{s.url}/api/v1/search/", payload)[0] for s in (a, b, a)]
        clock_set(clock, hour + 10 + 310)  # more than five idle minutes
        after_idle = post_json(f"{b.url}/api/v1/search/", payload)
        clock_set(clock, hour + 3600 + 1300)  # the full hour gone by, a third of the next
        next_hour = post_json(f"{a.url}/api/v1/search/", payload)

    assert first == [200, 200, 200]
    status, headers, body = after_idle
    assert (status, body["error"]["code"]) == (429, "rate_limited")
    assert headers["RateLimit-Limit"] == "3"
    assert int(headers["Retry-After"]) > 3000  # the hour's end, not five minutes
    assert next_hour[0] == 200
