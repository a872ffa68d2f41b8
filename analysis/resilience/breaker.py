"""A circuit breaker whose state lives in the Django cache, so every process shares it.

With REDIS_URL the cache is Redis, otherwise the database cache: both are seen by the web
processes, the django-q2 workers and the commands alike. A provider that failed N times in a
row (availability failures only: timeouts, 429, 5xx, refused connections, rejected keys) is
skipped by all of them for a cool-down; then exactly one caller gets a trial call (half-open,
claimed with an atomic `cache.add`), whose outcome closes or re-opens the circuit.

If the cache itself cannot be reached the breaker lets calls through ("fails open"): a broken
breaker must not stop the model calls it protects.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core.cache import caches

logger = logging.getLogger("swatch.resilience")

# The ProviderError codes that say "the provider is not there", as opposed to "this one
# input was bad": only these count towards opening the circuit.
AVAILABILITY_CODES = frozenset(
    {"timeout", "unavailable", "rate_limited", "connection_error", "unauthorized"}
)


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerPolicy:
    failures: int = 5
    cooldown: float = 60.0
    window: int = 600

    @classmethod
    def from_settings(cls) -> BreakerPolicy:
        conf = settings.SWATCH_PROVIDERS
        return cls(
            failures=max(int(conf["BREAKER_FAILURES"]), 1),
            cooldown=float(conf["BREAKER_COOLDOWN"]),
            window=int(conf["BREAKER_WINDOW"]),
        )


class CircuitBreaker:
    """Closed → open after `failures` consecutive failures → half-open after `cooldown`
    (one trial call) → closed on success, open again on failure."""

    def __init__(self, name: str, *, policy: BreakerPolicy, cache_alias: str = "default"):
        self.name = name
        self.policy = policy
        self.cache_alias = cache_alias
        digest = hashlib.sha256(name.encode()).hexdigest()[:16]
        self._failures_key = f"breaker:{digest}:failures"
        self._opened_key = f"breaker:{digest}:opened_at"
        self._trial_key = f"breaker:{digest}:trial"

    @property
    def _cache(self):
        return caches[self.cache_alias]

    def state(self) -> CircuitState:
        opened_at = self._cache.get(self._opened_key)
        if opened_at is None:
            return CircuitState.CLOSED
        if time.time() - float(opened_at) < self.policy.cooldown:
            return CircuitState.OPEN
        return CircuitState.HALF_OPEN

    def consecutive_failures(self) -> int:
        return int(self._cache.get(self._failures_key) or 0)

    def allow(self) -> bool:
        """May a call go through now? In half-open state only one caller is let through; the
        claim expires after a cool-down so a trial lost with its process does not wedge it."""
        try:
            state = self.state()
            if state is CircuitState.CLOSED:
                return True
            if state is CircuitState.OPEN:
                return False
            return bool(
                self._cache.add(self._trial_key, 1, timeout=max(int(self.policy.cooldown), 1))
            )
        except Exception:  # noqa: BLE001 - a cache outage must not block model calls
            logger.warning("circuit %s: cache unreachable, letting the call through", self.name)
            return True

    def record_success(self) -> None:
        try:
            self._cache.delete_many([self._failures_key, self._opened_key, self._trial_key])
        except Exception:  # noqa: BLE001 - see allow()
            logger.warning("circuit %s: cache unreachable, success not recorded", self.name)

    def record_failure(self, code: str) -> None:
        """Count a failed call; availability failures only (see AVAILABILITY_CODES). A trial
        call (half-open) that fails in any way, garbage included, opens the circuit again: it
        must end the trial, or the circuit would stay half-open."""
        try:
            if code not in AVAILABILITY_CODES and self.state() is not CircuitState.HALF_OPEN:
                return
            self._record_failure()
        except Exception:  # noqa: BLE001 - see allow()
            logger.warning("circuit %s: cache unreachable, failure not recorded", self.name)

    def _record_failure(self) -> None:
        cache = self._cache
        if self.state() is CircuitState.HALF_OPEN:
            # The trial failed: open again for a full cool-down.
            cache.set(self._opened_key, time.time(), timeout=None)
            cache.delete(self._trial_key)
            logger.warning("circuit %s: trial call failed, open again", self.name)
            return
        cache.add(self._failures_key, 0, timeout=self.policy.window)
        try:
            failures = cache.incr(self._failures_key)
        except ValueError:  # expired between add and incr
            cache.set(self._failures_key, 1, timeout=self.policy.window)
            failures = 1
        if failures >= self.policy.failures and cache.add(
            self._opened_key, time.time(), timeout=None
        ):
            logger.warning("circuit %s: open after %d consecutive failures", self.name, failures)

    def reset(self) -> None:
        self.record_success()


def breaker_for(name: str) -> CircuitBreaker:
    """The breaker of one provider, configured from settings (cheap: state is in the cache)."""
    return CircuitBreaker(
        name,
        policy=BreakerPolicy.from_settings(),
        cache_alias=settings.SWATCH_PROVIDERS.get("BREAKER_CACHE", "default"),
    )
