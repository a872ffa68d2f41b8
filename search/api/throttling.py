"""The API's rate limits as DRF throttles over `search.ratelimit`: per user when signed in,
else per client address (config/client_address.py: `X-Forwarded-For` only from a trusted
proxy). New searches count in the `search` scope; look-ups of a stored search (polling for
the refined answer) in the more generous `lookup` scope."""

from __future__ import annotations

import math

from rest_framework.throttling import BaseThrottle

from config.client_address import client_address
from search.metrics import RATE_LIMITED
from search.ratelimit.limits import rate_consume, rate_ident

__all__ = ["LookupRateThrottle", "SearchRateThrottle", "rate_consume"]


class SearchRateThrottle(BaseThrottle):
    scope = "search"

    def allow_request(self, request, view) -> bool:
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        ident = rate_ident(user_id=user_id, address=client_address(request))
        self._wait = rate_consume(ident=ident, scope=self.scope)
        if self._wait is not None:
            RATE_LIMITED.labels(scope=self.scope, surface="api").inc()
        return self._wait is None

    def wait(self) -> float | None:
        return math.ceil(self._wait) if self._wait is not None else None


class LookupRateThrottle(SearchRateThrottle):
    scope = "lookup"
