"""Logging."""

from __future__ import annotations

from config import env

# --- logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "swatch": {"handlers": ["console"], "level": env.get_str(env.LOG_LEVEL)},
        "django_q": {"handlers": ["console"], "level": "WARNING"},
    },
}
