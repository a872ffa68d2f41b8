"""Rate tiers of API keys: `SWATCH_API_KEY_TIERS` names each tier with the factor its limits
get over the design's defaults (`SWATCH_SEARCH_RATE_*`: 5 in 10 s, 10 a minute, 100 an hour)."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=4)
def _parsed(text: str) -> dict[str, float]:
    tiers: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, factor = part.partition("=")
        try:
            tiers[name.strip()] = float(factor)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"SWATCH_API_KEY_TIERS: {part!r} is not name=factor"
            ) from exc
        if tiers[name.strip()] <= 0:
            raise ImproperlyConfigured(f"SWATCH_API_KEY_TIERS: {part!r} needs a factor above 0")
    if "standard" not in tiers:
        tiers["standard"] = 1.0
    return tiers


def tiers() -> dict[str, float]:
    return _parsed(settings.SWATCH_API_KEY_TIERS)


def tier_names() -> list[str]:
    return list(tiers())


def tier_factor(name: str | None) -> float:
    return tiers().get(name or "standard", 1.0)
