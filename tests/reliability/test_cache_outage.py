"""Issue 12, point 5: with Redis unreachable, searches are still answered (the cache is a
miss, the query state simply not kept), rate limits fall back to a conservative count per
process, and `/healthz` says `degraded`; once Redis answers again, limits are shared again."""

import pytest
from rest_framework.test import APIClient

from search.ratelimit.windows import ratelimit_fallback_reset

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing listens there
        "KEY_PREFIX": "swatch-test-outage",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
        },
    }
}


@pytest.fixture
def redis_down(settings):
    settings.CACHES = UNREACHABLE_REDIS
    settings.DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    ratelimit_fallback_reset()
    yield
    ratelimit_fallback_reset()


def test_with_redis_unreachable_searches_answer_and_healthz_says_degraded(
    redis_down, providers, sample_catalog, client
):
    api = APIClient()
    # when three searches come from one client while Redis is down (burst limit 5)
    statuses = [
        api.post("/api/v1/search/", {"text": "oak"}, format="json").status_code for _ in range(3)
    ]
    similar = api.get(f"/api/v1/materials/{sample_catalog['oak'].pk}/similar/")
    health = client.get("/healthz")

    # then the first are answered, with this process counting half the limit on its own
    assert statuses == [200, 200, 429]
    assert similar.status_code == 429
    # and /healthz says so, still 200: the node serves searches
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "degraded"
    assert body["cache"] == {"ok": False, "backend": "redis", "error": "ConnectionError"}
    assert body["rate_limits"]["degraded"] is True
    assert body["rate_limits"]["backend"] == "local"


def test_a_search_answers_while_redis_is_down(redis_down, providers, sample_catalog):
    answer = APIClient().post("/api/v1/search/", {"text": "oak wood"}, format="json")

    assert answer.status_code == 200
    assert answer.json()["results"][0]["name"] == "Oak"


def test_limits_are_shared_again_once_redis_answers(
    redis_down, providers, sample_catalog, settings, client
):
    api = APIClient()
    api.post("/api/v1/search/", {"text": "oak"}, format="json")
    assert client.get("/healthz").json()["rate_limits"]["degraded"] is True

    # when Redis is back (the database cache here stands for a cache that answers)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "swatch_cache",
        }
    }
    from search.ratelimit import windows

    windows._fallback.retry_shared_at = 0.0  # the retry pause has passed
    assert api.post("/api/v1/search/", {"text": "oak"}, format="json").status_code == 200

    # then limits are counted in the shared store again
    health = client.get("/healthz").json()
    assert health["rate_limits"] == {
        "backend": "database",
        "degraded": False,
        "degraded_since": None,
        "error": None,
    }
    assert health["status"] == "ok"
