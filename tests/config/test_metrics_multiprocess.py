"""Acceptance: Swatch's series are right across server processes. Two gunicorn processes
share one metrics folder (prometheus-client's multiprocess mode, as `./swatch up` runs a node);
known requests go to each, and either one's `/metrics` adds both up."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis

from materials.services import catalog_get_or_create
from tests.fakes.servers import get, gunicorn_server, post_json
from tests.metrics_support import Scrape

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REDIS_URL = "redis://127.0.0.1:6379/0"
TOKEN = "multiprocess-metrics-token-0123456789"


@pytest.fixture
def node_env(tmp_path):
    """What two server processes of one node share: the metrics folder, Redis (cache, rate
    counts) under a prefix of this test's own, and generous rates."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    prefix = f"swatch-test-metrics-{uuid.uuid4().hex[:10]}"
    yield {
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "SWATCH_METRICS_TOKEN": TOKEN,
        "REDIS_URL": REDIS_URL,
        "SWATCH_CACHE_PREFIX": prefix,
        "SWATCH_Q_NAME": prefix,
        "SWATCH_SEARCH_RATE_BURST": "1000/1s",
        "SWATCH_SEARCH_RATE_MINUTE": "10000/60s",
        "SWATCH_LOG_LEVEL": "WARNING",
    }
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def _scrape(url: str) -> Scrape:
    status, _, body = get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, body[:300]
    return Scrape.parse(body.decode())


def test_series_add_up_across_two_server_processes(node_env, tmp_path):
    # a catalog with nothing in it: every search of it answers, with zero results
    catalog = catalog_get_or_create(name=f"empty-{uuid.uuid4().hex[:8]}").name
    with (
        gunicorn_server(env=node_env, log=tmp_path / "a.log") as a,
        gunicorn_server(env=node_env, log=tmp_path / "b.log") as b,
    ):
        # /metrics is closed without the token, on both
        assert get(f"{a.url}/metrics")[0] == 401
        assert get(f"{b.url}/metrics")[0] == 401
        before = _scrape(a.url)
        # known requests: two text searches on A, two on B (one repeats A's: a cache hit)
        for server, text in ((a, "oak"), (a, "stone"), (b, "oak"), (b, "brick")):
            status, _, answer = post_json(
                f"{server.url}/api/v1/search/", {"text": text, "filters": {"catalog": catalog}}
            )
            assert status == 200, answer
            assert answer["results"] == []
        from_a, from_b = _scrape(a.url), _scrape(b.url)

    files = {p.name for p in Path(node_env["PROMETHEUS_MULTIPROC_DIR"]).glob("counter_*.db")}
    assert len(files) >= 2, files  # one per server process (their worker pids)
    for after in (from_a, from_b):

        def grew(name, after=after, **labels):
            return after.value(name, **labels) - before.value(name, **labels)

        assert grew("swatch_search_seconds_count", operation="search", kind="text") == 4
        assert grew("swatch_search_answers_total", outcome="zero_results") == 4
        assert grew("swatch_cache_lookups_total", cache="search_answer", outcome="hit") == 1
        assert grew("swatch_cache_lookups_total", cache="search_answer", outcome="miss") == 3
        # three texts embedded by the offline text model (the repeated one came from the cache)
        text_calls = {"provider": "offline-text", "purpose": "embed_text", "outcome": "ok"}
        assert grew("swatch_model_calls_total", **text_calls) == 3
        assert grew("swatch_model_call_seconds_count", **text_calls) == 3
        assert grew("swatch_cache_lookups_total", cache="text_embedding", outcome="hit") == 1
        assert grew("django_http_requests_total_by_method_total", method="POST") == 4
