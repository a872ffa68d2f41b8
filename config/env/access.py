"""API access: anonymous use, API keys (rotation, rate tiers), usage alerts."""

from __future__ import annotations

from config.env.registry import declare

API_ANONYMOUS = declare(
    "SWATCH_API_ANONYMOUS",
    None,
    "Whether the API answers callers without a key or a session for searching and reading "
    "catalogs (scopes `search`, `catalog:read`). Default: on when SWATCH_ENV is `development` "
    "or `test` (the embedded setup), off in `production`. The pages are not affected.",
)
API_KEY_ROTATION_GRACE_DAYS = declare(
    "SWATCH_API_KEY_ROTATION_GRACE_DAYS",
    "7",
    "Days a rotated API key keeps working beside its successor (`api_keys rotate`, the admin's "
    "rotate action); the owner sees the date in `api_keys list` and the admin.",
)
API_KEY_TIERS = declare(
    "SWATCH_API_KEY_TIERS",
    "standard=1,plus=5,partner=20",
    "Rate tiers of API keys: `name=factor`, comma-separated; a key's search limits are the "
    "SWATCH_SEARCH_RATE_* limits times its tier's factor (`standard` is always 1).",
)
