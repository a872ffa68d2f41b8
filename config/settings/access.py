"""API access: anonymous callers, API keys, CORS for the keys' origins (access/)."""

from __future__ import annotations

from config import env
from config.settings.base import ENVIRONMENT

_anonymous = env.get_optional(env.API_ANONYMOUS)
SWATCH_API_ANONYMOUS = (
    env.get_bool(env.API_ANONYMOUS)
    if _anonymous not in (None, "")
    else ENVIRONMENT in {"development", "test"}
)
SWATCH_API_KEY_ROTATION_GRACE_DAYS = env.get_float(env.API_KEY_ROTATION_GRACE_DAYS)
SWATCH_API_KEY_TIERS = env.get_str(env.API_KEY_TIERS)

# Usage alerts of API keys (access/alerts.py).
SWATCH_ALERT_RATE_FACTOR = env.get_float(env.ALERT_RATE_FACTOR)
SWATCH_ALERT_RATE_MIN = env.get_int(env.ALERT_RATE_MIN)
SWATCH_ALERT_ERROR_MIN = env.get_int(env.ALERT_ERROR_MIN)
SWATCH_ALERT_ERROR_SHARE = env.get_float(env.ALERT_ERROR_SHARE)
SWATCH_ALERT_EXPIRY_DAYS = env.get_float(env.ALERT_EXPIRY_DAYS)
SWATCH_ALERT_WEBHOOK_URL = env.get_str(env.ALERT_WEBHOOK_URL)

# django-cors-headers: only /api/, only the origins of usable keys (access/cors.py's signal).
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOWED_ORIGINS: list[str] = []
CORS_ALLOW_HEADERS = ("authorization", "x-api-key", "content-type", "x-request-id")
CORS_EXPOSE_HEADERS = (
    "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy",
    "Retry-After", "X-Request-Id",
)  # fmt: skip
