"""`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds) and `RateLimit-Policy`
on every answer of the API and the search pages: the window closest to its limit, of the scope
the request counted in (`request.swatch_rate`, set where a hit is counted), else of `search`
read without counting. A 429 says 0 remaining and its `Retry-After` as the reset."""

from __future__ import annotations

import logging
import math

from django.db import DatabaseError

from config.errors.outages import CACHE_ERRORS
from search.ratelimit.identity import request_rate_ident
from search.ratelimit.limits import search_rate_peek
from search.ratelimit.windows import RateDecision

logger = logging.getLogger("swatch.ratelimit")
SKIP = ("/static/", "/media/", "/admin/", "/healthz", "/readyz", "/metrics", "/favicon")


def rate_headers(decision: RateDecision) -> dict[str, str]:
    if not decision.windows:
        return {}
    tightest = min(decision.windows, key=lambda w: (w.limit - w.used, -w.seconds))
    remaining = max(0, math.floor(tightest.limit - tightest.used))
    reset = decision.retry_after if not decision.allowed else tightest.reset_in
    policy = ", ".join(
        f"{w.limit};w={w.seconds}" for w in sorted(decision.windows, key=lambda w: w.seconds)
    )
    return {
        "RateLimit-Limit": str(tightest.limit),
        "RateLimit-Remaining": "0" if not decision.allowed else str(remaining),
        "RateLimit-Reset": str(max(1, math.ceil(reset))),
        "RateLimit-Policy": policy,
    }


class RateLimitHeadersMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(SKIP) or "RateLimit-Limit" in response:
            return response
        decision = getattr(request, "swatch_rate", None)
        try:
            if decision is None:
                ident, factor = request_rate_ident(request)
                decision = search_rate_peek(ident=ident, factor=factor)
        except (DatabaseError, *CACHE_ERRORS) as exc:  # the answer matters more than its headers
            logger.warning("rate-limit headers left out (%s)", exc.__class__.__name__)
            return response
        for name, value in rate_headers(decision).items():
            response[name] = value
        return response
