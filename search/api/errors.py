"""Every API error as `{"error": {"code", "message", "field"}}` with a 4xx status (503 when
a model provider is down); 429 carries `Retry-After`."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from analysis.providers.protocols import ProviderError
from materials.intake import ImageIntakeError
from search.errors import SearchError


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


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


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, SearchError):
        return Response(error_body(exc.code, exc.message, exc.field), status=exc.status)
    if isinstance(exc, ImageIntakeError):
        return Response(error_body(exc.code, exc.message, "image"), status=400)
    if isinstance(exc, ProviderError):
        return Response(
            error_body("provider_unavailable", f"A model provider failed: {exc}", None),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
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
