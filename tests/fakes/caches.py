"""CACHES settings for the two shared-state backends the tests run on: the real Redis
(127.0.0.1:6379) and the database, each under a key prefix of the test's own."""

from __future__ import annotations

REDIS_URL = "redis://127.0.0.1:6379/0"


def cache_settings(kind: str, prefix: str) -> dict:
    if kind == "redis":
        return {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": REDIS_URL,
                "KEY_PREFIX": prefix,
                "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
            }
        }
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "swatch_cache",
            "KEY_PREFIX": prefix,
        }
    }
