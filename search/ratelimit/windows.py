"""Sliding-window limits over fixed-window counters (`counters`).

For each window (e.g. burst 5/10 s, minute 10/60 s, hour 100/3600 s) a hit counts in the
current fixed window; the estimate is that count plus the previous window's, weighted by how
much of it still overlaps the last `seconds`: no double burst at a window's edge. All windows
of a hit are counted, and their previous windows read, in one round trip.

While Redis is unreachable, counting falls back to this process's memory, allowing
`SWATCH_RATE_FALLBACK_SHARE` of each limit (at least 1), and Redis is tried again after
`RETRY_SHARED_AFTER` seconds; `ratelimit_status()` tells `/healthz`.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings

from config.clock import clock_now
from config.errors.outages import CACHE_ERRORS
from search.ratelimit.counters import Counts, LocalCounters, shared_counters

logger = logging.getLogger("swatch.ratelimit")

RETRY_SHARED_AFTER = 2.0


@dataclass(frozen=True)
class WindowUse:
    name: str
    limit: int
    seconds: int
    used: float  # the sliding estimate, this hit included
    reset_in: float  # seconds until the current fixed window ends


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: float | None  # seconds to wait when refused
    windows: tuple[WindowUse, ...]
    backend: str  # redis | database | local
    degraded: bool  # counted by this process alone (the shared cache is unreachable)


class _Fallback:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.local = LocalCounters()
        self.degraded_since: float | None = None
        self.retry_shared_at = 0.0
        self.error = ""

    def failed(self, exc: BaseException) -> None:
        with self.lock:
            if self.degraded_since is None:
                self.degraded_since = time.time()
                logger.warning(
                    "the shared cache is unreachable (%s): rate limits are counted per process",
                    exc.__class__.__name__,
                )
            self.retry_shared_at = time.monotonic() + RETRY_SHARED_AFTER
            self.error = exc.__class__.__name__

    def recovered(self) -> None:
        with self.lock:
            if self.degraded_since is not None:
                logger.warning("the shared cache answers again: rate limits are shared again")
            self.degraded_since = None
            self.error = ""


_fallback = _Fallback()


def fallback_share() -> float:
    return float(getattr(settings, "SWATCH_RATE_FALLBACK_SHARE", 0.5))


def _count(incr: list[tuple[str, int]], read: list[str], now: float) -> tuple[Counts, str, bool]:
    if time.monotonic() >= _fallback.retry_shared_at:
        counters = shared_counters()
        try:
            counts = counters.hit(incr, read, now)
        except CACHE_ERRORS as exc:
            _fallback.failed(exc)
        else:
            if _fallback.degraded_since is not None:
                _fallback.recovered()
            return counts, counters.name, False
    return _fallback.local.hit(incr, read, now), "local", True


def _take_back(keys: list[str], backend: str, now: float) -> None:
    """A refused hit is not counted: refusals do not push the window further away."""
    try:
        counters = _fallback.local if backend == "local" else shared_counters()
        counters.unhit(keys, now)
    except CACHE_ERRORS as exc:  # the hit stays counted: stricter, never looser
        logger.warning("could not take back a refused hit (%s)", exc.__class__.__name__)


def _wait(limit: int, seconds: int, current: int, previous: int, elapsed: float) -> float:
    """Seconds until the estimate is back under `limit`."""
    overlap = 1.0 - elapsed / seconds
    if current > limit or not previous:
        return seconds - elapsed
    # Until enough of the previous window has slid out of the last `seconds`.
    needed_overlap = (limit - current) / previous
    return max(1.0, (overlap - needed_overlap) * seconds)


def _spans(ident: str, rates: Mapping[str, object], scope: str, now: float):
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    incr, read, spans = [], [], []
    for name, rate in rates.items():
        window, elapsed = divmod(now, rate.seconds)
        base = f"rate:{scope}:{name}:{digest}"
        incr.append((f"{base}:{int(window)}", 2 * rate.seconds + 1))
        read.append(f"{base}:{int(window) - 1}")
        spans.append((name, rate, elapsed))
    return incr, read, spans


def _judge(spans, currents, previouses, degraded: bool, counting: bool):
    share = fallback_share() if degraded else 1.0
    wait, windows = None, []
    for (name, rate, elapsed), current, previous in zip(spans, currents, previouses, strict=True):
        limit = max(1, math.floor(rate.requests * share)) if degraded else rate.requests
        used = previous * (1.0 - elapsed / rate.seconds) + current
        windows.append(WindowUse(name, limit, rate.seconds, used, rate.seconds - elapsed))
        if counting and used > limit:
            wait = max(wait or 0.0, _wait(limit, rate.seconds, current, previous, elapsed))
    return wait, tuple(windows)


def rate_decide(
    *, ident: str, rates: Mapping[str, object], scope: str = "search", now: float | None = None
) -> RateDecision:
    """Count one hit of `ident` in `scope` against `rates` (name → object with `requests`
    and `seconds`) and decide; a refused hit is taken back again."""
    now = clock_now() if now is None else now
    incr, read, spans = _spans(ident, rates, scope, now)
    if not incr:
        return RateDecision(True, None, (), "none", False)
    counts, backend, degraded = _count(incr, read, now)
    wait, windows = _judge(spans, counts.incremented, counts.read, degraded, counting=True)
    if wait is not None:
        _take_back([key for key, _ in incr], backend, now)
        windows = tuple(
            WindowUse(w.name, w.limit, w.seconds, max(0.0, w.used - 1), w.reset_in) for w in windows
        )
    return RateDecision(wait is None, wait, windows, backend, degraded)


def rate_peek(
    *, ident: str, rates: Mapping[str, object], scope: str = "search", now: float | None = None
) -> RateDecision:
    """Where `ident` stands in `scope`, without counting (the headers of other answers)."""
    now = clock_now() if now is None else now
    incr, read, spans = _spans(ident, rates, scope, now)
    if not incr:
        return RateDecision(True, None, (), "none", False)
    degraded = _fallback.degraded_since is not None
    counters = _fallback.local if degraded else shared_counters()
    try:
        values = counters.peek([key for key, _ in incr] + read, now)
    except CACHE_ERRORS:
        return RateDecision(True, None, (), "local", True)
    half = len(incr)
    _, windows = _judge(spans, values[:half], values[half:], degraded, counting=False)
    return RateDecision(True, None, windows, counters.name, degraded)


def ratelimit_fallback_reset() -> None:
    """Forget an outage this process met (tests; the next hit tries the shared cache)."""
    _fallback.recovered()
    _fallback.retry_shared_at = 0.0
    _fallback.local = LocalCounters()


def ratelimit_status() -> dict:
    """For `/healthz`: where limits are counted, and whether this process counts alone."""
    since = _fallback.degraded_since
    return {
        "backend": "local" if since is not None else shared_counters().name,
        "degraded": since is not None,
        "degraded_since": since,
        "error": _fallback.error or None,
    }
