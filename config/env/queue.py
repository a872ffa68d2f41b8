"""Cache and task queue (Redis or the database)."""

from __future__ import annotations

from config.env.registry import declare

REDIS_URL = declare(
    "REDIS_URL",
    None,
    "Redis (`redis://127.0.0.1:6379/0`). Set: cache, rate-limit counters, circuit-breaker "
    "state and the django-q2 broker live in Redis. Unset: the database serves all four.",
    secret=True,
)
CACHE_PREFIX = declare(
    "SWATCH_CACHE_PREFIX", "swatch", "Key prefix in the cache (several deployments, one Redis)."
)
Q_WORKERS = declare("SWATCH_Q_WORKERS", "2", "django-q2 worker processes.")
Q_NAME = declare(
    "SWATCH_Q_NAME",
    "swatch",
    "django-q2 cluster name: its queue's key in Redis. Deployments sharing one Redis need "
    "different names.",
)
Q_TIMEOUT = declare(
    "SWATCH_Q_TIMEOUT", "300", "Seconds a background task may run before it is killed."
)
Q_RETRY = declare(
    "SWATCH_Q_RETRY",
    "360",
    "Seconds after which an unacknowledged task is delivered again (must exceed the timeout).",
)
Q_MAX_ATTEMPTS = declare("SWATCH_Q_MAX_ATTEMPTS", "3", "Deliveries of one task at the most.")
Q_SYNC = declare(
    "SWATCH_Q_SYNC", "false", "Run background tasks inline, in the caller (tests, debugging)."
)
Q_LOG_LEVEL = declare(
    "SWATCH_Q_LOG_LEVEL",
    "WARNING",
    "Log level of the django-q2 worker (`INFO` logs every task queued and done).",
)
