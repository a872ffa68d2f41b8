"""Search rate limits per user (per IP when anonymous): burst, minute and hour windows,
counted in the shared cache (Redis when REDIS_URL is set: atomic INCR, one count for every
web process)."""

from __future__ import annotations

import hashlib
import math
import time

from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from search.conf import search_config
from search.metrics import RATE_LIMITED


def _count(key: str, ttl: int) -> int:
    cache.add(key, 0, ttl)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, ttl)
        return 1


def rate_consume(*, ident: str, now: float | None = None) -> float | None:
    """Count one search for `ident`; the seconds to wait when a limit is exceeded, else None.

    A sliding-window estimate (this window's count plus the previous window's, weighted by how
    much of it still overlaps the last `seconds`): no double burst at a window's edge.
    """
    now = time.time() if now is None else now
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    wait = None
    for name, rate in search_config().rates.items():
        window, elapsed = divmod(now, rate.seconds)
        window = int(window)
        current = _count(f"search:rate:{name}:{digest}:{window}", 2 * rate.seconds + 1)
        previous = cache.get(f"search:rate:{name}:{digest}:{window - 1}") or 0
        overlap = 1.0 - elapsed / rate.seconds
        if previous * overlap + current <= rate.requests:
            continue
        if current > rate.requests or not previous:
            left = rate.seconds - elapsed
        else:
            # Until enough of the previous window has slid out of the last `seconds`.
            needed_overlap = (rate.requests - current) / previous
            left = max(1.0, (overlap - needed_overlap) * rate.seconds)
        wait = max(wait or 0.0, left)
    return wait


class SearchRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ident = f"user:{user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        self._wait = rate_consume(ident=ident)
        if self._wait is not None:
            RATE_LIMITED.labels(scope="search", surface="api").inc()
        return self._wait is None

    def wait(self) -> float | None:
        return math.ceil(self._wait) if self._wait is not None else None
