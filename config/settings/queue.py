"""The shared cache and the django-q2 broker: Redis with REDIS_URL, else the database."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from config import env

# --- cache, queue -------------------------------------------------------------------------
REDIS_URL = env.get_optional(env.REDIS_URL)
CACHE_PREFIX = env.get_str(env.CACHE_PREFIX)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_PREFIX,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # A Redis that does not answer costs a request this long at most: then the
                # call fails (a miss; limits count per process, search/ratelimit/windows.py).
                "SOCKET_CONNECT_TIMEOUT": env.get_float(env.CACHE_TIMEOUT),
                "SOCKET_TIMEOUT": env.get_float(env.CACHE_TIMEOUT),
            },
        }
    }
    # Cache reads and writes that fail are misses, not errors (logged): search keeps
    # answering while Redis is down. Rate limits and the breaker handle it themselves.
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    DJANGO_REDIS_LOGGER = "swatch.cache"
else:
    # Shared by every process (web, worker, commands), unlike the local-memory cache.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "swatch_cache",  # UNLOGGED: migration search.0003
            "KEY_PREFIX": CACHE_PREFIX,
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

Q_TIMEOUT = env.get_int(env.Q_TIMEOUT)
Q_RETRY = env.get_int(env.Q_RETRY)
if Q_RETRY <= Q_TIMEOUT:
    raise ImproperlyConfigured("SWATCH_Q_RETRY must be larger than SWATCH_Q_TIMEOUT.")
Q_CLUSTER = {
    "name": env.get_str(env.Q_NAME),
    "workers": env.get_int(env.Q_WORKERS),
    "timeout": Q_TIMEOUT,
    "retry": Q_RETRY,
    "max_attempts": env.get_int(env.Q_MAX_ATTEMPTS),
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "sync": env.get_bool(env.Q_SYNC),
    "label": "Background tasks",
    "log_level": env.get_str(env.Q_LOG_LEVEL),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 0.5
