"""Search rate limits, counted in real Redis (127.0.0.1:6379) under this run's own prefix."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def search(client):
    return client.post("/api/v1/search/", {"text": "oak"}, format="json")


def test_a_burst_beyond_five_is_a_429_with_retry_after(providers, sample_catalog):
    client = APIClient()
    statuses = [search(client).status_code for _ in range(5)]

    refused = search(client)

    assert statuses == [200] * 5
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 10
    assert refused.json()["error"]["code"] == "rate_limited"


@pytest.mark.parametrize(
    ("rates", "allowed", "longest_wait"),
    [
        ({"burst": "100/10s", "minute": "3/60s", "hour": "100/3600s"}, 3, 60),
        ({"burst": "100/10s", "minute": "100/60s", "hour": "2/3600s"}, 2, 3600),
    ],
)
def test_minute_and_hour_limits(providers, sample_catalog, settings, rates, allowed, longest_wait):
    # given a generous burst limit and a tight minute (or hour) limit
    settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "RATES": rates}
    client = APIClient()
    statuses = [search(client).status_code for _ in range(allowed)]

    refused = search(client)

    assert statuses == [200] * allowed
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= longest_wait


def test_limits_are_per_user_when_authenticated(providers, sample_catalog):
    anonymous = APIClient()
    for _ in range(5):
        search(anonymous)
    assert search(anonymous).status_code == 429
    user = User.objects.create_user("alice", password="not-used-here-123")
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert search(client).status_code == 200


def test_the_count_is_shared_across_processes(providers, sample_catalog, settings):
    # given another process (another web worker) that made five searches from this IP
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    env = {
        **os.environ,
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "SWATCH_CACHE_PREFIX": prefix,
        "SWATCH_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    code = (
        "import django; django.setup()\n"
        "from search.api.throttling import rate_consume\n"
        "print([rate_consume(ident='ip:127.0.0.1') for _ in range(5)])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[None, None, None, None, None]"

    # when this process searches from the same IP
    refused = search(APIClient())

    # then the other process's searches counted
    assert refused.status_code == 429
