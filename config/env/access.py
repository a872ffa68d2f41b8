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
ALERT_RATE_FACTOR = declare(
    "SWATCH_ALERT_RATE_FACTOR",
    "5",
    "A key's usage alert `rate_spike`: requests in 5 minutes at least this many times its "
    "average of the hour before (and at least SWATCH_ALERT_RATE_MIN).",
)
ALERT_RATE_MIN = declare(
    "SWATCH_ALERT_RATE_MIN", "50", "The fewest requests in 5 minutes a `rate_spike` needs."
)
ALERT_ERROR_MIN = declare(
    "SWATCH_ALERT_ERROR_MIN",
    "20",
    "The fewest errors (4xx/5xx) in 5 minutes an `error_spike` needs.",
)
ALERT_ERROR_SHARE = declare(
    "SWATCH_ALERT_ERROR_SHARE",
    "0.5",
    "The share of a key's requests in 5 minutes that were errors for an `error_spike`.",
)
ALERT_EXPIRY_DAYS = declare(
    "SWATCH_ALERT_EXPIRY_DAYS",
    "7",
    "A key used this close to its expiry raises `near_expiry` (once a day).",
)
ALERT_WEBHOOK_URL = declare(
    "SWATCH_ALERT_WEBHOOK_URL",
    "",
    "Usage alerts are also POSTed here as JSON (kind, key prefix, name, message, details); "
    "they always make an admin row and a WARNING log line, and a mail to ADMINS when set.",
)
