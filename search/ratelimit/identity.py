"""Whose hits a request counts as: its API key's (scaled by the key's rate tier), else the
signed-in user's, else the client address's — the same for the API, the pages and the
RateLimit-* headers."""

from __future__ import annotations

from django.http import HttpRequest

from access.tiers import tier_factor
from config.client_address import client_address
from search.ratelimit.limits import rate_ident


def request_rate_ident(request: HttpRequest) -> tuple[str, float]:
    """(bucket, tier factor) of a Django request (a DRF request's `_request`)."""
    key = getattr(request, "swatch_api_key", None)  # access.authentication
    if key is not None:
        return rate_ident(user_id=None, address="", key_prefix=key.prefix), tier_factor(key.tier)
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    return rate_ident(user_id=user_id, address=client_address(request)), 1.0
