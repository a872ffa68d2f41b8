"""CORS for the API only for the origins of usable keys (django-cors-headers' signal): a
preflight carries no key, so it is answered for an origin some key allows; the request
itself is then checked against its own key's origins (access.authentication)."""

from __future__ import annotations

from corsheaders.signals import check_request_enabled

from access.selectors import cors_origin_known


def _origin_of_a_key(sender, request, **kwargs) -> bool:
    origin = request.headers.get("Origin")
    return bool(origin) and request.path.startswith("/api/") and cors_origin_known(origin)


check_request_enabled.connect(_origin_of_a_key, dispatch_uid="access.cors")
