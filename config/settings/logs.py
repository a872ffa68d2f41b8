"""Logging: one console handler writing JSON lines (SWATCH_LOG_FORMAT=json, python-json-logger)
or plain text, both scrubbed of secrets and image data (`config.observability.logs`); every
record carries the request id (`config.request_id`), every request an access line
(`swatch.access`: method, route, status, duration_ms), and every server error reaches the
handler with its traceback (`django.request`)."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from config import env

LOG_FORMAT = env.get_str(env.LOG_FORMAT).strip().lower()
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"SWATCH_LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}.")

# --- logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.request_id.RequestIdLogFilter"}},
    "formatters": {
        "plain": {
            "class": "config.observability.logs.ScrubbedFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        "json": {
            "()": "config.observability.logs.ScrubbedJsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "loggers": {
        "swatch": {"handlers": ["console"], "level": env.get_str(env.LOG_LEVEL)},
        # Its lines are INFO: above that level, only the other `swatch` loggers write.
        "swatch.access": {"level": "NOTSET" if env.get_bool(env.ACCESS_LOG) else "WARNING"},
        "django_q": {"handlers": ["console"], "level": "WARNING"},
        # Uncaught exceptions (500, with the traceback) and 4xx/5xx answers Django makes itself.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # Refused hosts, oversized or malformed requests (SuspiciousOperation).
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
