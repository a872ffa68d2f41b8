"""The circuit breaker: its state machine, and its state shared by every process, with Redis
(real, 127.0.0.1:6379) and with the database cache (real Postgres)."""

from __future__ import annotations

import time
import uuid

import pytest
from django.core.cache import caches
from django.core.management import call_command

from analysis.resilience.breaker import BreakerPolicy, CircuitBreaker, CircuitState, breaker_for
from tests.fakes.processes import run_django

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_caches(prefix: str) -> dict:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }


def _db_caches(prefix: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "swatch_cache",
            "KEY_PREFIX": prefix,
        }
    }


@pytest.fixture
def db_cache(settings, db):
    settings.CACHES = _db_caches(f"test-breaker-{uuid.uuid4().hex}")
    call_command("createcachetable", verbosity=0)
    return caches["default"]


def _breaker(cooldown: float = 60.0) -> CircuitBreaker:
    return CircuitBreaker(
        f"test-{uuid.uuid4().hex}", policy=BreakerPolicy(failures=5, cooldown=cooldown, window=60)
    )


def test_five_consecutive_failures_open_the_circuit(db_cache):
    # given a closed circuit
    breaker = _breaker()
    assert breaker.state() is CircuitState.CLOSED

    # when four availability failures: still closed; the fifth opens it
    for _ in range(4):
        breaker.record_failure("unavailable")
    assert breaker.state() is CircuitState.CLOSED
    assert breaker.allow()
    breaker.record_failure("timeout")

    # then
    assert breaker.state() is CircuitState.OPEN
    assert not breaker.allow()


def test_a_success_resets_the_count_of_consecutive_failures(db_cache):
    breaker = _breaker()
    for _ in range(4):
        breaker.record_failure("unavailable")

    breaker.record_success()
    for _ in range(4):
        breaker.record_failure("rate_limited")

    assert breaker.state() is CircuitState.CLOSED
    assert breaker.consecutive_failures() == 4


def test_bad_output_does_not_count_as_the_provider_being_down(db_cache):
    breaker = _breaker()

    for _ in range(10):
        breaker.record_failure("bad_response")
        breaker.record_failure("bad_request")

    assert breaker.state() is CircuitState.CLOSED


def test_after_the_cooldown_one_trial_call_is_let_through_and_its_success_closes(db_cache):
    # given an open circuit with a 0.3 s cool-down
    breaker = _breaker(cooldown=0.3)
    for _ in range(5):
        breaker.record_failure("unavailable")
    assert not breaker.allow()

    # when the cool-down has passed
    time.sleep(0.35)

    # then half-open: exactly one caller gets the trial
    assert breaker.state() is CircuitState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()
    breaker.record_success()
    assert breaker.state() is CircuitState.CLOSED
    assert breaker.allow()


def test_a_failed_trial_opens_the_circuit_again(db_cache):
    breaker = _breaker(cooldown=0.3)
    for _ in range(5):
        breaker.record_failure("unavailable")
    time.sleep(0.35)
    assert breaker.allow()

    breaker.record_failure("timeout")

    assert breaker.state() is CircuitState.OPEN
    assert not breaker.allow()


def test_breaker_for_reads_its_policy_from_settings(settings, db_cache):
    settings.SWATCH_PROVIDERS = {
        **settings.SWATCH_PROVIDERS,
        "BREAKER_FAILURES": 2,
        "BREAKER_COOLDOWN": 30,
    }
    breaker = breaker_for(f"test-{uuid.uuid4().hex}")

    breaker.record_failure("unavailable")
    breaker.record_failure("unavailable")

    assert breaker.policy.failures == 2
    assert breaker.state() is CircuitState.OPEN


def _other_process(prefix: str, name: str, action: str, *, redis: bool) -> str:
    code = f"""
from analysis.resilience.breaker import breaker_for
breaker = breaker_for({name!r})
action = {action!r}
if action == "fail":
    for _ in range(5):
        breaker.record_failure("unavailable")
elif action == "succeed":
    breaker.record_success()
print(breaker.state().value)
"""
    env = {
        "SWATCH_CACHE_PREFIX": prefix,
        "SWATCH_BREAKER_FAILURES": "5",
        "SWATCH_BREAKER_COOLDOWN": "60",
        "REDIS_URL": REDIS_URL if redis else "",
    }
    return run_django(code, env=env)


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.slow
def test_a_circuit_opened_here_is_open_in_another_process_with_redis(settings, db):
    if not _redis_available():
        pytest.fail("Redis must run at 127.0.0.1:6379 for this test (see .ci/run)")
    # given this process and another one sharing Redis under a unique prefix
    prefix = f"test-breaker-{uuid.uuid4().hex}"
    settings.CACHES = _redis_caches(prefix)
    name = "openai"
    breaker = breaker_for(name)
    try:
        # when this process sees five failures
        for _ in range(5):
            breaker.record_failure("unavailable")

        # then the other process sees the circuit open
        assert _other_process(prefix, name, "state", redis=True) == "open"
        # and when the other process closes it (a successful trial), this one sees it closed
        assert _other_process(prefix, name, "succeed", redis=True) == "closed"
        assert breaker.state() is CircuitState.CLOSED
        # and failures counted over there open it here
        assert _other_process(prefix, name, "fail", redis=True) == "open"
        assert breaker.state() is CircuitState.OPEN
    finally:
        caches["default"].delete_pattern("*")  # only this test's prefix


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_circuit_opened_here_is_open_in_another_process_with_the_database_cache(settings):
    # given this process and another one sharing the database cache (committed rows)
    prefix = f"test-breaker-{uuid.uuid4().hex}"
    settings.CACHES = _db_caches(prefix)
    call_command("createcachetable", verbosity=0)
    name = "clip-remote"
    breaker = breaker_for(name)

    # when this process sees five failures
    for _ in range(5):
        breaker.record_failure("timeout")

    # then the other process sees the circuit open, and its success closes it here too
    assert _other_process(prefix, name, "state", redis=False) == "open"
    assert _other_process(prefix, name, "succeed", redis=False) == "closed"
    assert breaker.state() is CircuitState.CLOSED
    assert _other_process(prefix, name, "fail", redis=False) == "open"
    assert breaker.state() is CircuitState.OPEN


def test_a_trial_answered_with_garbage_does_not_leave_the_circuit_half_open(db_cache):
    # given an open circuit whose cool-down has passed
    breaker = _breaker(cooldown=0.3)
    for _ in range(5):
        breaker.record_failure("unavailable")
    time.sleep(0.35)
    assert breaker.state() is CircuitState.HALF_OPEN
    assert breaker.allow()

    # when the trial call is answered with garbage (not an availability failure)
    breaker.record_failure("invalid_output")

    # then the trial is over: open again, and after the next cool-down a new trial is let in
    assert breaker.state() is CircuitState.OPEN
    assert not breaker.allow()
    time.sleep(0.35)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state() is CircuitState.CLOSED
