"""Logging: one console handler; every record carries the request id (`config.request_id`),
and every server error reaches it with its traceback (`django.request`)."""

from __future__ import annotations

from config import env

# --- logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.request_id.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "loggers": {
        "swatch": {"handlers": ["console"], "level": env.get_str(env.LOG_LEVEL)},
        "django_q": {"handlers": ["console"], "level": "WARNING"},
        # Uncaught exceptions (500, with the traceback) and 4xx/5xx answers Django makes itself.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # Refused hosts, oversized or malformed requests (SuspiciousOperation).
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
