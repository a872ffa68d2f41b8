"""The error envelope every API error uses: `{"error": {"code", "message", "field",
"request_id"}}`. `code` is stable (clients branch on it), `message` is for people, `field` names
the request field at fault (dotted, e.g. `filters.colors`) or is null."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

from config.request_id import request_id_get

API_PREFIX = "/api/"


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "field": field,
            "request_id": request_id_get(),
        }
    }


def error_json(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    *,
    retry_after: int | None = None,
) -> JsonResponse:
    response = JsonResponse(error_body(code, message, field), status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)
