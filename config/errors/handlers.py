"""Django's error handlers (`handler400/403/404/500` in `config.urls`): the JSON envelope for
the API, the site's own page for everything else.

Django calls `server_error` while the exception is being handled (inside its `except`), so
`sys.exc_info()` says what failed: an outage of the database or the cache becomes a 503 with
`Retry-After`, anything else a 500 naming the request id. Django itself logs the failure with
its traceback (logger `django.request`, which carries the request id). Rendering an error page
must never fail in turn: the 500/503/413 pages need no database, and if even the template
cannot be rendered (static files not collected, say) a plain page answers.
"""

from __future__ import annotations

import logging
import sys

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.template import loader

from config.errors.envelope import error_json, is_api_request
from config.errors.outages import outage_of
from config.request_id import request_id_get

logger = logging.getLogger("swatch.errors")

_PLAIN = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>{title} · Swatch</title>"
    "<h1>{title}</h1><p>{message}</p><p>Request id: <code>{request_id}</code></p>"
    '<p><a href="/">Back to search</a></p></html>'
)


def _page(
    request: HttpRequest, template: str, status: int, title: str, message: str, **context
) -> HttpResponse:
    context = {"message": message, "request_id": request_id_get(), **context}
    try:
        body = loader.render_to_string(template, context, request=request)
    except Exception:  # noqa: BLE001 - an error page must answer whatever else is broken
        logger.exception("the %s error page could not be rendered", status)
        body = _PLAIN.format(title=title, message=message, request_id=request_id_get())
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def _plain_page(template: str, status: int, title: str, message: str, **context):
    """A page rendered without the request's context processors (which may need the
    database that just failed)."""

    try:
        body = loader.render_to_string(
            template, {"message": message, "request_id": request_id_get(), **context}
        )
    except Exception:  # noqa: BLE001 - see _page
        logger.exception("the %s error page could not be rendered", status)
        body = _PLAIN.format(title=title, message=message, request_id=request_id_get())
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def payload_too_large(request: HttpRequest, limit: int | None = None) -> HttpResponse:
    message = "The request is larger than the server accepts."
    if limit:
        message = f"The request is larger than the {limit:,} bytes the server accepts."
    if is_api_request(request):
        return error_json(413, "payload_too_large", message)
    return _plain_page("413.html", 413, "Too large", message)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return payload_too_large(request)
    if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        code, message = "too_many_fields", "The request has too many fields or files."
    else:
        code, message = "bad_request", "The request could not be understood."
    if is_api_request(request):
        return error_json(400, code, message)
    return _page(request, "400.html", 400, "Bad request", message)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = "You do not have permission to do this."
    if is_api_request(request):
        return error_json(403, "permission_denied", message)
    return _page(request, "403.html", 403, "Forbidden", message)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return error_json(404, "not_found", "There is nothing at this address.")
    return _page(request, "404.html", 404, "Not found", "There is nothing at this address.")


def outage_response(request: HttpRequest, exc: BaseException) -> HttpResponse | None:
    """The 503 answer for an outage, or None when `exc` is no outage."""
    outage = outage_of(exc)
    if outage is None:
        return None
    from config.errors.recovery import outage_noticed

    outage_noticed(outage)
    if is_api_request(request):
        return error_json(503, outage.code, outage.message, retry_after=outage.retry_after)
    response = _plain_page(
        "503.html", 503, "Unavailable", outage.message, retry_after=outage.retry_after
    )
    response["Retry-After"] = str(outage.retry_after)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    if exc is not None:
        response = outage_response(request, exc)
        if response is not None:
            return response
    message = (
        "Something went wrong on our side; nothing you stored is lost. "
        f"If it happens again, quote request id {request_id_get()}."
    )
    if is_api_request(request):
        return error_json(500, "server_error", message)
    return _plain_page("500.html", 500, "Something went wrong", message)
