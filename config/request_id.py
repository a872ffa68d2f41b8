"""Request ids: every request carries one, accepted from the client's `X-Request-ID` (when it
looks like an id) or made here, returned on the answer and put on every log record written
while the request runs (`RequestIdLogFilter`), so a user's report, the access log and a
server error's traceback meet on one value.

The id lives in a context variable, not on a thread: `request_id_bind` carries it into work
done elsewhere (a background thread, a task) for as long as that work runs.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
NO_REQUEST = "-"
# What a client may send as an id: no spaces, no control characters (a log line stays one
# line), not too long. Anything else is replaced by an id of our own.
_ACCEPTED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}")
_current: ContextVar[str] = ContextVar("swatch_request_id", default=NO_REQUEST)


def request_id_new() -> str:
    return uuid.uuid4().hex


def request_id_get() -> str:
    """The id of the request being served here, or "-" outside a request."""
    return _current.get()


def request_id_accept(value: str | None) -> str:
    """The client's id if it is an acceptable one, else a new id."""
    if value and _ACCEPTED.fullmatch(value):
        return value
    return request_id_new()


def request_id_set(value: str) -> Token[str]:
    """Make `value` the current id until `request_id_reset` of the token (a task's start and
    end are two signals, not one block)."""
    return _current.set(value)


def request_id_reset(token: Token[str]) -> None:
    _current.reset(token)


@contextmanager
def request_id_bind(value: str) -> Iterator[str]:
    """Make `value` the current request id for the block (a thread or task acting for it)."""
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)


class RequestIdMiddleware:
    """Outermost middleware: the id is set before anything else can log or fail."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_accept(request.headers.get(HEADER))
        request.request_id = request_id
        with request_id_bind(request_id):
            response = self.get_response(request)
        response[HEADER] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Adds `request_id` to each record (for the formatter's `%(request_id)s`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current.get()
        return True
