"""The API's rate limits as DRF throttles over `search.ratelimit`: per user when signed in,
else per client address (config/client_address.py: `X-Forwarded-For` only from a trusted
proxy). New searches count in the `search` scope; look-ups of a stored search (polling for
the refined answer) in the more generous `lookup` scope."""

from __future__ import annotations

import math

from rest_framework.throttling import BaseThrottle

from access.models import ApiKey
from access.tiers import tier_factor
from config.client_address import client_address
from search.metrics import RATE_LIMITED
from search.ratelimit.limits import rate_consume, rate_ident, search_rate_decide

__all__ = ["LookupRateThrottle", "SearchRateThrottle", "rate_consume"]


class SearchRateThrottle(BaseThrottle):
    scope = "search"

    def allow_request(self, request, view) -> bool:
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        key = request.auth if isinstance(request.auth, ApiKey) else None
        ident = rate_ident(
            user_id=user_id,
            address=client_address(request),
            key_prefix=key.prefix if key is not None else None,
        )
        factor = tier_factor(key.tier) if key is not None else 1.0
        decision = search_rate_decide(ident=ident, scope=self.scope, factor=factor)
        self._wait = decision.retry_after
        if self._wait is not None:
            RATE_LIMITED.labels(scope=self.scope, surface="api").inc()
        return self._wait is None

    def wait(self) -> float | None:
        return math.ceil(self._wait) if self._wait is not None else None


class LookupRateThrottle(SearchRateThrottle):
    scope = "lookup"
