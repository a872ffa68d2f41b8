"""Who may read `/metrics`: a bearer token (SWATCH_METRICS_TOKEN), or a client address in
SWATCH_METRICS_ALLOWED_IPS. The address is the connection's (REMOTE_ADDR), never a header a
client can set."""

from __future__ import annotations

import hmac
import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest


@lru_cache(maxsize=16)
def _networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def address_allowed(address: str, entries: list[str] | tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(entries)))


def token_presented(request: HttpRequest) -> str | None:
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def metrics_access(request: HttpRequest) -> str | None:
    """None when the request may read the metrics, else why not: `token_required` (no or a
    wrong token, from an address not allowed)."""
    conf = settings.SWATCH_METRICS
    token = conf["TOKEN"]
    presented = token_presented(request)
    if token and presented and hmac.compare_digest(presented.encode(), token.encode()):
        return None
    if address_allowed(request.META.get("REMOTE_ADDR", ""), conf["ALLOWED_IPS"]):
        return None
    return "token_required"
