"""Outbound limits counted before each request, shared by every process, on both backends,
with a clock the test moves (nothing sleeps)."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache

from analysis.limits.clock import ManualClock, limits_clock
from analysis.limits.outbound import (
    OverLimit,
    outbound_reserve,
    outbound_settle,
    outbound_use,
)
from tests.analysis.limits_support import set_limits
from tests.fakes.caches import cache_settings
from tests.fakes.processes import run_django

pytestmark = [pytest.mark.django_db]


@pytest.fixture(params=["database", "redis"])
def counters(request, settings):
    """The limits counted in PostgreSQL (no Redis) or in Redis, as a deployment would."""
    prefix = f"swatch-limits-{uuid.uuid4().hex[:12]}"
    settings.CACHES = cache_settings(request.param, prefix)
    yield request.param
    if request.param == "redis":
        cache.delete_pattern("*")  # only this prefix's keys


def _admitted(provider: str, times: int, **amounts: int) -> int:
    admitted = 0
    for _ in range(times):
        try:
            outbound_reserve(provider, **amounts)
            admitted += 1
        except OverLimit:
            pass
    return admitted


@pytest.mark.usefixtures("counters")
def test_the_61st_request_in_a_minute_waits_for_the_oldest_to_leave(settings):
    set_limits(settings, "vision-a", requests=60)
    clock = ManualClock()
    with limits_clock(clock):
        # when 60 requests go out over the first 30 seconds
        for _i in range(60):
            outbound_reserve("vision-a")
            clock.advance(0.5)
        # then the 61st, 30 s in, is refused, and says when there is room again
        with pytest.raises(OverLimit) as refused:
            outbound_reserve("vision-a")
        assert refused.value.code == "over_limit"
        assert refused.value.window == "requests"
        assert 30 < refused.value.retry_after <= 32  # the first leaves the window at 61 s
        # and nothing was counted for it
        assert outbound_use()["vision-a"][0]["used"] == 60
        # when the clock reaches the stated time, then the first second's two may go again
        clock.advance(refused.value.retry_after)
        outbound_reserve("vision-a")
        outbound_reserve("vision-a")
        with pytest.raises(OverLimit):
            outbound_reserve("vision-a")


@pytest.mark.usefixtures("counters")
def test_no_span_of_a_minute_ever_holds_more_than_the_limit(settings):
    set_limits(settings, "vision-b", requests=60)
    clock = ManualClock()
    sent: list[float] = []
    with limits_clock(clock):
        # when a worker asks as fast as it can over five minutes, 0.25 s apart
        for _ in range(1200):
            try:
                outbound_reserve("vision-b")
                sent.append(clock.now)
            except OverLimit:
                pass
            clock.advance(0.25)
    # then no 60-second span holds more than 60 requests, and the limit is nearly used
    most = max(sum(1 for t in sent if start <= t < start + 60) for start in sent)
    assert most <= 60
    assert len(sent) >= 5 * 60 * 60 // 61 - 1


@pytest.mark.usefixtures("counters")
def test_tokens_per_hour_counted_by_estimate_then_corrected_from_usage(settings):
    set_limits(settings, "vision-c", requests=1000, tokens=10_000)
    clock = ManualClock()
    with limits_clock(clock):
        # when a request estimated at 4,000 tokens goes, which used 2,000
        first = outbound_reserve("vision-c", tokens=4000)
        assert outbound_use()["vision-c"][1]["used"] == 4000
        outbound_settle(first, tokens=2000)
        assert outbound_use()["vision-c"][1]["used"] == 2000
        # then 8,000 more fit in the hour, and the next 1,000 does not
        outbound_reserve("vision-c", tokens=8000)
        with pytest.raises(OverLimit) as refused:
            outbound_reserve("vision-c", tokens=1000)
        assert refused.value.window == "tokens"
        # an hour and a minute later, there is room again
        clock.advance(3660)
        outbound_reserve("vision-c", tokens=1000)


@pytest.mark.usefixtures("counters")
def test_embeddings_per_day(settings):
    set_limits(settings, "clip-d", requests=120, items=100)
    clock = ManualClock()
    with limits_clock(clock):
        # when batches of 30 images are embedded, a minute apart
        admitted = 0
        for _ in range(5):
            try:
                outbound_reserve("clip-d", items=30)
                admitted += 1
            except OverLimit as exc:
                refused = exc
            clock.advance(60)
        # then three batches (90) went, the fourth would pass 100 a day
        assert admitted == 3
        assert refused.window == "items"
        assert 23 * 3600 < refused.retry_after <= 24 * 3600 + 1440
        clock.advance(refused.retry_after)
        outbound_reserve("clip-d", items=30)


@pytest.mark.usefixtures("counters")
def test_a_refused_window_counts_in_none_of_the_others(settings):
    set_limits(settings, "vision-e", requests=60, tokens=1000)
    with limits_clock(ManualClock()):
        outbound_reserve("vision-e", tokens=900)
        with pytest.raises(OverLimit):
            outbound_reserve("vision-e", tokens=200)
        use = {w["window"]: w["used"] for w in outbound_use()["vision-e"]}
    assert use == {"requests": 1, "tokens": 900}


WORKER = """
import json, sys
from django.conf import settings
from analysis.limits.outbound import OverLimit, outbound_reserve
settings.SWATCH_LIMITS["PROVIDERS"]["{provider}"] = {{"requests": 60}}
admitted = 0
for _ in range(50):
    try:
        outbound_reserve("{provider}", now={now})
        admitted += 1
    except OverLimit:
        pass
print(admitted)
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", ["database", "redis"])
def test_two_worker_processes_share_one_budget(backend, settings):
    provider = f"shared-{uuid.uuid4().hex[:8]}"
    env = {"SWATCH_LOG_LEVEL": "ERROR"}
    if backend == "redis":
        env["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    code = WORKER.format(provider=provider, now=1_800_000_000.0)
    # when two worker processes each try 50 requests in the same second
    with ThreadPoolExecutor(2) as pool:
        counts = list(pool.map(lambda _: int(run_django(code, env=env)), range(2)))
    # then together they sent exactly the 60 the minute allows, neither alone
    assert sum(counts) == 60, counts
    assert all(0 < c <= 50 for c in counts), json.dumps(counts)


def test_the_defaults_are_the_designs_numbers():
    from config.settings.budgets import SWATCH_LIMITS

    assert SWATCH_LIMITS["PROVIDERS"] == {
        "openai": {"requests": 60, "tokens": 1_000_000},
        "clip-remote": {"requests": 120, "items": 10_000},
    }
    assert SWATCH_LIMITS["BUDGET_WARN_SHARE"] == 0.8


def test_the_reaper_forgets_expired_buckets_of_the_database_counters():
    from django.db import connection

    from analysis.tasks import analysis_reap_task

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO swatch_model_limit_counter (key, count, expires) VALUES "
            "('old', 1, now() - interval '1 minute'), ('live', 1, now() + interval '1 hour')"
        )
        analysis_reap_task()
        cursor.execute("SELECT key FROM swatch_model_limit_counter WHERE key IN ('old', 'live')")
        assert [row[0] for row in cursor.fetchall()] == ["live"]
