"""The API's search limits, counted once a request is known to be well-formed: a request
answered 400 never uses up the search quota; it counts in the `malformed` scope instead, and
when that is exceeded the 429 still names the request's own error. Refused requests are not
counted (search/ratelimit/windows.py). The decision is kept on the request for the
RateLimit-* headers (search/ratelimit/headers.py)."""

from __future__ import annotations

import math
from contextlib import contextmanager

from rest_framework import exceptions

from config.uploads import UploadTooLarge
from materials.intake import ImageIntakeError
from search.errors import SearchError
from search.metrics import RATE_LIMITED
from search.ratelimit.identity import request_rate_ident
from search.ratelimit.limits import search_rate_decide

MALFORMED = (
    exceptions.ValidationError,
    exceptions.ParseError,
    exceptions.UnsupportedMediaType,
    ImageIntakeError,
    UploadTooLarge,
)


class MalformedLimited(Exception):
    """Too many malformed requests; `error` is this request's own (a 400 kept visible)."""

    def __init__(self, error: Exception, wait: float) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = max(1, math.ceil(wait))


def search_counted(request, scope: str = "search") -> None:
    """Count one `scope` hit for the request's key, user or address; `Throttled` when over."""
    ident, factor = request_rate_ident(request._request)
    decision = search_rate_decide(ident=ident, scope=scope, factor=factor)
    request._request.swatch_rate = decision
    if not decision.allowed:
        RATE_LIMITED.labels(scope=scope, surface="api").inc()
        raise exceptions.Throttled(wait=math.ceil(decision.retry_after))


def _is_malformed(exc: Exception) -> bool:
    return isinstance(exc, MALFORMED) or (isinstance(exc, SearchError) and exc.status == 400)


@contextmanager
def malformed_counted(request):
    """Run the parsing and checking of a request; a malformed one counts as such."""
    try:
        yield
    except Exception as exc:
        if not _is_malformed(exc):
            raise
        ident, _ = request_rate_ident(request._request)
        decision = search_rate_decide(ident=ident, scope="malformed")
        if not decision.allowed:
            RATE_LIMITED.labels(scope="malformed", surface="api").inc()
            raise MalformedLimited(exc, decision.retry_after) from exc
        raise
