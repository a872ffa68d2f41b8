"""Reading keys: which key a secret is and in what state, whether an address or an origin may
use it, and the origins CORS answers for."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from access.models import ApiKey, PrivateCatalog
from materials.models import Catalog


@dataclass(frozen=True)
class KeyCheck:
    key: ApiKey | None
    problem: str | None  # api_key_invalid | api_key_revoked | api_key_expired
    message: str


def key_check(*, secret: str, now=None) -> KeyCheck:
    """The key of `secret`, or why it cannot be used (revoked and expired keys are told
    apart from unknown ones only once the secret itself matches their hash)."""
    prefix, dot, _ = secret.partition(".")
    key = (
        ApiKey.objects.select_related("owner").filter(prefix=prefix).first()
        if dot and len(prefix) <= 8
        else None
    )
    if key is None or not key.is_valid(secret):
        return KeyCheck(None, "api_key_invalid", "This API key is not valid.")
    if key.revoked:
        return KeyCheck(key, "api_key_revoked", f"API key {key.prefix} was revoked.")
    now = now or timezone.now()
    if key.expiry_date is not None and key.expiry_date <= now:
        successor = key.replaced_by.prefix if key.replaced_by_id else None
        why = f"; it was replaced by key {successor}" if successor else ""
        return KeyCheck(
            key,
            "api_key_expired",
            f"API key {key.prefix} expired at {key.expiry_date:%Y-%m-%d %H:%M} UTC{why}.",
        )
    return KeyCheck(key, None, "")


def key_allows_address(key: ApiKey, address: str) -> bool:
    if not key.allowed_ips:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in ipaddress.ip_network(net, strict=False) for net in key.allowed_ips)


def key_allows_origin(key: ApiKey, origin: str | None) -> bool:
    """A browser call (one with `Origin`) only from the key's origins; a call without
    `Origin` (a server, a script) is not a browser's, and its address is what is checked."""
    if origin is None:
        return True
    return origin.rstrip("/").lower() in key.allowed_origins


def cors_origin_known(origin: str) -> bool:
    """Whether any usable key allows `origin` (preflights carry no key)."""
    now = timezone.now()
    usable = ApiKey.objects.filter(revoked=False, allowed_origins__contains=[origin.lower()])
    return usable.exclude(expiry_date__lte=now).exists()


def key_status(key: ApiKey, now=None) -> str:
    """For the admin and `api_keys list`: active, expires …, in rotation grace, revoked."""
    now = now or timezone.now()
    if key.revoked:
        return f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "revoked"
    if key.expiry_date is not None and key.expiry_date <= now:
        return "expired"
    if key.replaced_by_id is not None:
        return f"rotated: valid until {key.expiry_date:%Y-%m-%d %H:%M} UTC (grace)"
    if key.expiry_date is not None:
        return f"active until {key.expiry_date:%Y-%m-%d}"
    return "active"


def private_catalog_ids() -> set[int]:
    return set(PrivateCatalog.objects.values_list("catalog_id", flat=True))


def catalog_is_private(catalog_id: int) -> bool:
    return PrivateCatalog.objects.filter(catalog_id=catalog_id).exists()


def hidden_catalogs_for(request) -> tuple[int, ...]:
    """The private catalogs `request`'s asker may not see: all of them but those granted to
    its API key, or to its signed-in user (a member); staff signed in see every one. Read
    once a request (the asker is known by then: the views call it)."""
    known = getattr(request, "_swatch_hidden_catalogs", None)
    if known is None:
        known = request._swatch_hidden_catalogs = _hidden_catalogs(request)
    return known


def private_catalogs_for(request) -> dict[int, str]:
    """Every private catalog (id → name), read once a request."""
    known = getattr(request, "_swatch_private_catalogs", None)
    if known is None:
        known = request._swatch_private_catalogs = _private_catalogs()
    return known


_PRIVATE_SQL = (
    f"SELECT p.catalog_id, c.name FROM {PrivateCatalog._meta.db_table} p "  # noqa: S608 - constants
    f"JOIN {Catalog._meta.db_table} c ON c.id = p.catalog_id"
)


def _private_catalogs() -> dict[int, str]:
    # Plain SQL: every API request reads this, and the ORM's query building cost more than
    # the query.
    with connection.cursor() as cursor:
        cursor.execute(_PRIVATE_SQL)
        return dict(cursor.fetchall())


def granted_private_catalogs_for(request) -> dict[int, str]:
    """The private catalogs the asker may see (id → name): their images get signed URLs."""
    hidden = set(hidden_catalogs_for(request))
    return {pk: name for pk, name in private_catalogs_for(request).items() if pk not in hidden}


def _hidden_catalogs(request) -> tuple[int, ...]:
    private = set(private_catalogs_for(request))
    if not private:
        return ()
    key = getattr(request, "swatch_api_key", None)  # access.authentication
    user = getattr(request, "user", None)
    if key is not None:
        granted = set(key.catalogs.values_list("id", flat=True))
    elif user is not None and user.is_authenticated:
        if user.is_staff:
            return ()
        granted = set(
            PrivateCatalog.objects.filter(members=user).values_list("catalog_id", flat=True)
        )
    else:
        granted = set()
    return tuple(sorted(private - granted))
