"""The client's address: the connection's own, unless it comes from a reverse proxy listed in
`SWATCH_TRUSTED_PROXIES`; then `X-Forwarded-For` is read from the right, skipping the trusted
proxies, and the first address that is not one of them is the client. A header a client
writes itself is never believed: rotating `X-Forwarded-For` does not make a new client."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"SWATCH_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR."
            ) from exc
    return tuple(networks)


def trusted_proxies() -> tuple[Network, ...]:
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(request: HttpRequest) -> str:
    """The address of the client that made `request` (see the module's docstring)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    networks = trusted_proxies()
    nearest = _address(remote)
    if not networks or not _trusted(nearest, networks):
        return nearest.compressed if nearest is not None else remote
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # a garbled entry: the last trusted proxy is as far as we can see
        nearest = address
        if not _trusted(address, networks):
            break
    return nearest.compressed


def client_rate_ident(address: str) -> str:
    """The address as a rate-limit bucket: an IPv6 client is its /64 (one subscriber's
    prefix, whose addresses it can rotate at will), an IPv4 client its address."""
    parsed = _address(address)
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is None:
        return ipaddress.ip_network(f"{parsed}/64", strict=False).compressed
    if isinstance(parsed, ipaddress.IPv6Address):
        return parsed.ipv4_mapped.compressed
    return parsed.compressed if parsed is not None else address
