"""Log lines: JSON objects (python-json-logger) or plain text, both scrubbed of secrets and
image data before they leave the process, and one access line per request (method, route,
status, duration) carrying the request id (`config.request_id`).

Scrubbing happens on the formatted line, so the message, its arguments, an exception's text
and any `extra` field all pass through it: secrets are the values of the `config.env`
variables declared `secret=True` that are set, Django's SECRET_KEY, credentials after
`Authorization:`/`Bearer`/`Token` or a `key=`/`token=`/`password=` name; image data is a
`data:image/…;base64,` payload, a long base64 run or a bytes literal.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from functools import lru_cache

from django.http import HttpRequest, HttpResponse
from pythonjsonlogger.json import JsonFormatter

REDACTED = "[redacted]"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(data:image/[\w.+-]+;base64,)[A-Za-z0-9+/=]+"), r"\1[image data]"),
    (re.compile(r"\b(Bearer|Token|Basic|Api-Key)\s+[A-Za-z0-9._~+/=-]{6,}"), rf"\1 {REDACTED}"),
    (
        re.compile(
            r"(?i)\b((?:api[_-]?key|access[_-]?token|token|password|passwd|secret)"
            r"[\"']?\s*[:=]\s*[\"']?)(?!\[redacted\])[^\s\"',&}]{4,}"
        ),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"\bb(['\"])(?:\\.|(?!\1).){80,}?\1"), "b'[bytes]'"),
    (re.compile(r"[A-Za-z0-9+/]{200,}={0,2}"), "[binary data]"),
)


@lru_cache(maxsize=1)
def _secret_values() -> tuple[str, ...]:
    """The secrets this process knows, longest first (one that contains another goes first)."""
    from django.conf import settings

    from config.env.registry import REGISTRY, get_optional

    values = {get_optional(var) or "" for var in REGISTRY.values() if var.secret}
    values.add(getattr(settings, "SECRET_KEY", "") or "")
    return tuple(sorted((v for v in values if len(v) >= 6), key=len, reverse=True))


def scrub(text: str) -> str:
    """`text` without the secrets and image data named above."""
    for secret in _secret_values():
        text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class ScrubbedFormatter(logging.Formatter):
    """The plain, human-readable line, scrubbed."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class ScrubbedJsonFormatter(JsonFormatter):
    """One JSON object a line (time, level, logger, message, request_id and any `extra`
    such as the access line's route, status and duration_ms), scrubbed."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


ACCESS = logging.getLogger("swatch.access")


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.route if match.route.startswith("/") else "/" + match.route


class AccessLogMiddleware:
    """One line per request, after the answer: `GET /api/v1/search/ 200` with the route
    pattern (never the query string), the status and the time taken."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - start) * 1000, 2)
        route = _route(request)
        ACCESS.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "route": route,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
        return response
