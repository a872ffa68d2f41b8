"""A circuit breaker whose state lives in the shared store (config/store), so every process
shares it.

With REDIS_URL the store is Redis, otherwise Postgres: both are seen by the web processes,
the django-q2 workers and the commands alike. A provider that failed N times in a row
(availability failures only: timeouts, 429, 5xx, refused connections, rejected keys; an
atomic counter of the store) is skipped by all of them for a cool-down; then exactly one
caller gets a trial call (half-open, claimed with the store's atomic `add`), whose outcome
closes or re-opens the circuit.

If the store itself cannot be reached the breaker lets calls through ("fails open"): a broken
breaker must not stop the model calls it protects.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings

from config.store import store

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

    def __init__(self, name: str, *, policy: BreakerPolicy):
        self.name = name
        self.policy = policy
        digest = hashlib.sha256(name.encode()).hexdigest()[:16]
        self._failures_key = f"breaker:{digest}:failures"
        self._opened_key = f"breaker:{digest}:opened_at"
        self._trial_key = f"breaker:{digest}:trial"

    def state(self) -> CircuitState:
        opened_at = store().get_many([self._opened_key]).get(self._opened_key)
        if opened_at is None:
            return CircuitState.CLOSED
        if time.time() - float(opened_at) < self.policy.cooldown:
            return CircuitState.OPEN
        return CircuitState.HALF_OPEN

    def consecutive_failures(self) -> int:
        return store().peek([self._failures_key])[0]

    def allow(self) -> bool:
        """May a call go through now? In half-open state only one caller is let through; the
        claim expires after a cool-down so a trial lost with its process does not wedge it."""
        try:
            state = self.state()
            if state is CircuitState.CLOSED:
                return True
            if state is CircuitState.OPEN:
                return False
            return store().add(self._trial_key, 1, max(int(self.policy.cooldown), 1))
        except Exception:  # noqa: BLE001 - a store outage must not block model calls
            logger.warning("circuit %s: store unreachable, letting the call through", self.name)
            return True

    def record_success(self) -> None:
        try:
            store().delete_many([self._failures_key, self._opened_key, self._trial_key])
        except Exception:  # noqa: BLE001 - see allow()
            logger.warning("circuit %s: store unreachable, success not recorded", self.name)

    def record_failure(self, code: str) -> None:
        """Count a failed call; availability failures only (see AVAILABILITY_CODES). A trial
        call (half-open) that fails in any way, garbage included, opens the circuit again: it
        must end the trial, or the circuit would stay half-open."""
        try:
            if code not in AVAILABILITY_CODES and self.state() is not CircuitState.HALF_OPEN:
                return
            self._record_failure()
        except Exception:  # noqa: BLE001 - see allow()
            logger.warning("circuit %s: store unreachable, failure not recorded", self.name)

    def _record_failure(self) -> None:
        if self.state() is CircuitState.HALF_OPEN:
            # The trial failed: open again for a full cool-down.
            store().set_many([(self._opened_key, time.time(), None)])
            store().delete_many([self._trial_key])
            logger.warning("circuit %s: trial call failed, open again", self.name)
            return
        # Consecutive failures within `window` of the first: a counter whose expiry is set
        # when it is made (the first failure) and never moved.
        failures = store().hit([(self._failures_key, self.policy.window)]).incremented[0]
        if failures >= self.policy.failures and store().add(self._opened_key, time.time(), None):
            logger.warning("circuit %s: open after %d consecutive failures", self.name, failures)

    def reset(self) -> None:
        self.record_success()


def breaker_for(name: str) -> CircuitBreaker:
    """The breaker of one provider, configured from settings (cheap: state is in the store)."""
    return CircuitBreaker(name, policy=BreakerPolicy.from_settings())
