"""Making, rotating and revoking API keys. The key itself is returned once, here, and never
stored: only its prefix and hash are (djangorestframework-api-key)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from access.models import SCOPES, ApiKey
from access.tiers import tier_names


class KeySettingsError(ValueError):
    """A key's settings that cannot be used (a CLI message, an admin form error)."""


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # shown once


def _scopes(scopes: Iterable[str]) -> list[str]:
    scopes = [s.strip() for s in scopes if s.strip()]
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise KeySettingsError(f"unknown scope {unknown[0]!r}; scopes are {', '.join(SCOPES)}")
    if not scopes:
        raise KeySettingsError("a key needs at least one scope")
    return sorted(set(scopes), key=SCOPES.index)


def _networks(entries: Iterable[str]) -> list[str]:
    networks = []
    for entry in (e.strip() for e in entries):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False).compressed)
        except ValueError as exc:
            raise KeySettingsError(f"{entry!r} is not an IP address or CIDR") from exc
    return networks


def origin_normalise(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise KeySettingsError(f"{text!r} is not a web origin like https://app.example.com")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def key_settings_check(
    *, scopes: Iterable[str], allowed_ips: Iterable[str], allowed_origins: Iterable[str], tier: str
) -> dict:
    if tier not in tier_names():
        raise KeySettingsError(f"unknown tier {tier!r}; tiers are {', '.join(tier_names())}")
    return {
        "scopes": _scopes(scopes),
        "allowed_ips": _networks(allowed_ips),
        "allowed_origins": [origin_normalise(o) for o in allowed_origins if o.strip()],
        "tier": tier,
    }


@transaction.atomic
def key_create(
    *,
    name: str,
    owner,
    scopes: Iterable[str] = ("search", "catalog:read"),
    expires_at: datetime | None = None,
    allowed_ips: Iterable[str] = (),
    allowed_origins: Iterable[str] = (),
    tier: str = "standard",
    catalogs: Iterable = (),
) -> IssuedKey:
    if not name.strip() or len(name) > 50:
        raise KeySettingsError("a key needs a name of 1 to 50 characters")
    checked = key_settings_check(
        scopes=scopes, allowed_ips=allowed_ips, allowed_origins=allowed_origins, tier=tier
    )
    key, secret = ApiKey.objects.create_key(
        name=name.strip(), owner=owner, expiry_date=expires_at, **checked
    )
    key.catalogs.set(list(catalogs))
    return IssuedKey(key, secret)


def rotation_grace() -> timedelta:
    return timedelta(days=settings.SWATCH_API_KEY_ROTATION_GRACE_DAYS)


@transaction.atomic
def key_rotate(*, key: ApiKey, grace: timedelta | None = None, now=None) -> IssuedKey:
    """A new key with the same name, owner, scopes, restrictions, tier, grants and expiry;
    the old one stays valid for `grace` (default `SWATCH_API_KEY_ROTATION_GRACE_DAYS`)."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked:
        raise KeySettingsError(f"key {key.prefix} is revoked; make a new one")
    if key.replaced_by_id is not None:
        raise KeySettingsError(f"key {key.prefix} was already rotated; rotate its successor")
    now = now or timezone.now()
    new, secret = ApiKey.objects.create_key(
        name=key.name,
        owner=key.owner,
        scopes=key.scopes,
        allowed_ips=key.allowed_ips,
        allowed_origins=key.allowed_origins,
        tier=key.tier,
        expiry_date=key.expiry_date if key.expiry_date and key.expiry_date > now else None,
    )
    new.catalogs.set(list(key.catalogs.all()))
    end = now + (rotation_grace() if grace is None else grace)
    key.expiry_date = min(end, key.expiry_date) if key.expiry_date else end
    key.replaced_by = new
    key.save(update_fields=["expiry_date", "replaced_by"])
    return IssuedKey(new, secret)


def key_revoke(*, key: ApiKey, now=None) -> ApiKey:
    if not key.revoked:
        key.revoked = True
        key.revoked_at = now or timezone.now()
        key.save(update_fields=["revoked", "revoked_at"])
    return key
