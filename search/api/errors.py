"""Every API error as the envelope of `config.errors.envelope` (`{"error": {"code", "message",
"field", "request_id"}}`): 4xx for what the client can fix, 503 with `Retry-After` for an outage
(a model provider, the database, the cache); 429 carries `Retry-After`. An exception this does
not know is left to Django's error path (`config.errors.handlers.server_error`): logged with its
traceback and the request id, answered with a JSON 500."""

from __future__ import annotations

import logging
from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from analysis.providers.protocols import ProviderError
from config.errors.envelope import error_body
from config.errors.outages import outage_of
from config.errors.recovery import outage_noticed
from config.uploads import UploadTooLarge
from materials.intake import ImageIntakeError
from search.api.limits import MalformedLimited
from search.errors import SearchError

logger = logging.getLogger("swatch.api")
PROVIDER_RETRY_AFTER = 30

__all__ = ["api_exception_handler", "error_body"]


def _first_error(detail: Any, path: tuple[str, ...] = ()) -> tuple[str, str, str | None]:
    """The first (code, message, dotted field) of a DRF validation error tree."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            sub = () if key == "non_field_errors" else (str(key),)
            return _first_error(value, path + sub)
    if isinstance(detail, list) and detail:
        return _first_error(detail[0], path)
    code = getattr(detail, "code", None) or "invalid"
    return str(code), str(detail), ".".join(path) or None


def _malformed_limited(exc: MalformedLimited) -> Response:
    inner = exc.error
    if isinstance(inner, exceptions.ValidationError):
        _, message, field = _first_error(inner.detail)
    else:
        message = getattr(inner, "message", None) or str(getattr(inner, "detail", inner))
        field = getattr(inner, "field", None)
    return Response(
        error_body(
            "malformed_rate_limited",
            f"Too many malformed requests; try again in {exc.wait} seconds. "
            f"This request is malformed too: {message}",
            field,
        ),
        status=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(exc.wait)},
    )


def _domain_error(exc: Exception) -> Response | None:
    if isinstance(exc, MalformedLimited):
        return _malformed_limited(exc)
    if isinstance(exc, SearchError):
        return Response(error_body(exc.code, exc.message, exc.field), status=exc.status)
    if isinstance(exc, ImageIntakeError):
        return Response(error_body(exc.code, exc.message, "image"), status=400)
    if isinstance(exc, UploadTooLarge):
        return Response(error_body("payload_too_large", str(exc), exc.field), status=413)
    if isinstance(exc, ProviderError):
        return Response(
            error_body("provider_unavailable", f"A model provider failed: {exc}", None),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(PROVIDER_RETRY_AFTER)},
        )
    outage = outage_of(exc)
    if outage is not None:
        logger.warning("%s: %s", outage.code, exc)
        outage_noticed(outage)
        return Response(
            error_body(outage.code, outage.message, None),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(outage.retry_after)},
        )
    return None


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    domain = _domain_error(exc)
    if domain is not None:
        return domain
    response = exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's error path logs it and answers a JSON 500
    if isinstance(exc, exceptions.ValidationError):
        code, message, field = _first_error(exc.detail)
        if code == "invalid" and field:
            code = "invalid_field"
        response.data = error_body(code, message, field)
    elif isinstance(exc, exceptions.Throttled):
        response.data = error_body(
            "rate_limited",
            f"Too many searches; try again in {int(exc.wait or 1)} seconds.",
            None,
        )
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        response.data = error_body(str(exc.get_codes()), detail, None)
    return response
