"""The shared store, chosen once from settings, as Zulip picks its upload backend: where the
cache is (`CACHES["default"]`), the store is — Redis with REDIS_URL, else the database.
Nobody else looks at what the cache is. Made on first use (after a web server's fork); a test
that changes `CACHES` gets the store of its new settings."""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS
from django.core.signals import setting_changed

from config.store.protocol import Store

REDIS_BACKEND = "django_redis.cache.RedisCache"
_lock = threading.Lock()
_chosen: Store | None = None


def _build() -> Store:
    conf = settings.CACHES[DEFAULT_CACHE_ALIAS]
    prefix = conf.get("KEY_PREFIX", "")
    if conf["BACKEND"] == REDIS_BACKEND:
        from config.store.redis import RedisStore

        options = conf.get("OPTIONS", {})
        return RedisStore(conf["LOCATION"], prefix=prefix, timeout=options.get("SOCKET_TIMEOUT"))
    from config.store.database import DatabaseStore

    return DatabaseStore(prefix=prefix)


def store() -> Store:
    """The process's shared store."""
    global _chosen
    chosen = _chosen
    if chosen is None:
        with _lock:
            if _chosen is None:
                _chosen = _build()
            chosen = _chosen
    return chosen


def _forget(*, setting: str, **_kwargs) -> None:
    global _chosen
    if setting == "CACHES":
        with _lock:
            _chosen = None


setting_changed.connect(_forget, dispatch_uid="swatch-store-choice")
