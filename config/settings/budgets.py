"""Outbound limits per provider and money budgets (`analysis.limits`, `analysis.budget`).

`SWATCH_LIMITS["PROVIDERS"]` maps a provider's name (the `ProviderSession`'s, also the
ledger's) to its windows: `requests` per minute, `tokens` per hour, `items` (embeddings) per
day; 0 or a missing window is no limit. Tests override single keys with the `settings` fixture.
"""

from __future__ import annotations

from config import env

__all__ = ["ADMINS", "SWATCH_LIMITS"]


def _optional_usd(var: env.Var) -> float | None:
    raw = env.get_optional(var)
    return float(raw) if raw not in (None, "") else None


SWATCH_LIMITS = {
    "PROVIDERS": {
        "openai": {
            "requests": env.get_int(env.VISION_LIMIT_RPM),
            "tokens": env.get_int(env.VISION_LIMIT_TOKENS_PER_HOUR),
        },
        "clip-remote": {
            "requests": env.get_int(env.CLIP_LIMIT_RPM),
            "items": env.get_int(env.CLIP_LIMIT_EMBEDDINGS_PER_DAY),
        },
    },
    "IMAGE_TOKENS": env.get_int(env.VISION_IMAGE_TOKENS),
    "BUDGET_USD_DAY": _optional_usd(env.MODEL_BUDGET_USD_DAY),
    "BUDGET_USD_MONTH": _optional_usd(env.MODEL_BUDGET_USD_MONTH),
    "BUDGET_WARN_SHARE": env.get_float(env.MODEL_BUDGET_WARN_SHARE),
}

ADMINS = [("Swatch admin", a.strip()) for a in env.get_list(env.ADMINS) if a.strip()]
