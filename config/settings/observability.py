"""Metrics (django-prometheus for the Django and database series, Swatch's own series in each
app's `metrics` module), the `/metrics` guard and readiness. See docs/OPERATIONS.md."""

from __future__ import annotations

import ipaddress

from django.core.exceptions import ImproperlyConfigured

from config import env
from config.settings.base import ENVIRONMENT
from config.settings.base import MIDDLEWARE as _MIDDLEWARE
from config.settings.database import DATABASES

# --- metrics ------------------------------------------------------------------------------
# The first and the last middleware: request counts and latency include every other one.
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    *_MIDDLEWARE,
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
# Query counts, latency and errors per database alias.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
# Unapplied migrations are a readiness check (`/readyz`), not a series read at every start.
PROMETHEUS_EXPORT_MIGRATIONS = False

_allowed = env.get_optional(env.METRICS_ALLOWED_IPS)
SWATCH_METRICS = {
    "TOKEN": env.get_optional(env.METRICS_TOKEN) or "",
    "ALLOWED_IPS": (
        env.get_list(env.METRICS_ALLOWED_IPS)
        if _allowed is not None
        else (["127.0.0.1", "::1"] if ENVIRONMENT == "development" else [])
    ),
    "MULTIPROCESS_DIR": env.get_optional(env.PROMETHEUS_MULTIPROC_DIR) or "",
    # Business figures read from the database at most this often (seconds) per process.
    "BUSINESS_CACHE_SECONDS": 60,
}

for _entry in SWATCH_METRICS["ALLOWED_IPS"]:
    try:
        ipaddress.ip_network(_entry, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(
            f"SWATCH_METRICS_ALLOWED_IPS: {_entry!r} is no address or CIDR."
        ) from _exc

# --- readiness ----------------------------------------------------------------------------
SWATCH_READY = {
    "HEARTBEAT_MAX_AGE": env.get_int(env.READY_HEARTBEAT_MAX_AGE),
}
