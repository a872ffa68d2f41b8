"""Requests too large to serve are refused from their `Content-Length`, before a byte of the
body is read: `413 payload_too_large` (the JSON envelope on the API, a page on the site). The
cap is `SWATCH_MAX_REQUEST_BYTES`; the body of a request that passes it is still bounded while
it is read (`DATA_UPLOAD_MAX_MEMORY_SIZE`, and the memory-only upload handler per file)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from config.errors.handlers import bad_request, payload_too_large


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared:
            try:
                length = int(declared)
            except ValueError:
                return bad_request(request)
            if length < 0:
                return bad_request(request)
            if length > settings.MAX_REQUEST_BYTES:
                response = payload_too_large(request, settings.MAX_REQUEST_BYTES)
                # The body is not read: ask the client to close (gunicorn drops this header
                # and discards the unread body itself before the next request).
                response["Connection"] = "close"
                return response
        return self.get_response(request)
