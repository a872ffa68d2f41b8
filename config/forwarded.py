"""https behind a reverse proxy: a request that reaches Swatch from a proxy listed in
`SWATCH_TRUSTED_PROXIES` is as secure as its `X-Forwarded-Proto` says (the proxy ended TLS);
from anyone else the header is ignored, so a client cannot make a plain request pass for https.
Django's own SECURE_PROXY_SSL_HEADER would believe the header from every client."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from config.client_address import _address, _trusted, trusted_proxies


class ForwardedSchemeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        forwarded = request.META.get("HTTP_X_FORWARDED_PROTO", "")
        if forwarded:
            proto = forwarded.split(",", 1)[0].strip().lower()
            remote = _address(request.META.get("REMOTE_ADDR", "") or "")
            if proto in {"http", "https"} and _trusted(remote, trusted_proxies()):
                request.META["wsgi.url_scheme"] = proto  # what request.scheme reads
        return self.get_response(request)
