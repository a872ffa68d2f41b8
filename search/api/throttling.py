"""The stored-search look-up's limit as a DRF throttle (polling for the refined answer and
paging it: the generous `lookup` scope; never the search quota). New searches are counted once
they are known to be well-formed: search/api/limits.py."""

from __future__ import annotations

import math

from rest_framework.throttling import BaseThrottle

from search.metrics import RATE_LIMITED
from search.ratelimit.identity import request_rate_ident
from search.ratelimit.limits import rate_consume, search_rate_decide

__all__ = ["LookupRateThrottle", "rate_consume"]


class LookupRateThrottle(BaseThrottle):
    scope = "lookup"

    def allow_request(self, request, view) -> bool:
        ident, factor = request_rate_ident(request._request)
        decision = search_rate_decide(ident=ident, scope=self.scope, factor=factor)
        request._request.swatch_rate = decision
        self._wait = decision.retry_after
        if self._wait is not None:
            RATE_LIMITED.labels(scope=self.scope, surface="api").inc()
        return self._wait is None

    def wait(self) -> float | None:
        return math.ceil(self._wait) if self._wait is not None else None
