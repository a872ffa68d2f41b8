"""Window counters, atomic with and without Redis (see the package's docstring).

`hit(incr, read, now)` adds one to each key of `incr` (made with its ttl if new) and returns
their new counts, with the current counts of the keys of `read` (0 when missing or expired), in
one round trip; `unhit(keys, now)` takes a refused hit back (a refusal does not extend a
window); `peek(read, now)` only reads. Keys name fixed windows (`…:<window number>`), so a key
is never reused after it expires: its ttl only says when it may be forgotten. `now` is the rate
limits' clock (config/clock.py); Postgres rows expire by it, Redis keys by Redis' own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.cache import cache
from django.core.cache.backends.db import DatabaseCache
from django.db import connection

Incr = Sequence[tuple[str, int]]  # key, seconds to keep it
TABLE = "swatch_rate_counter"  # UNLOGGED: migration search.0005
PURGE_EVERY = 1000  # hits of one process between two deletes of expired rows
_database_hits = 0


@dataclass(frozen=True)
class Counts:
    incremented: list[int]
    read: list[int]


class RedisCounters:
    name = "redis"

    def __init__(self, backend) -> None:
        self.backend = backend  # django-redis's cache

    def hit(self, incr: Incr, read: Sequence[str], now: float | None = None) -> Counts:
        client = self.backend.client.get_client(write=True)
        pipeline = client.pipeline(transaction=True)
        for key, ttl in incr:
            full = self.backend.make_key(key)
            pipeline.incr(full)
            pipeline.expire(full, ttl, nx=True)
        if read:
            pipeline.mget([self.backend.make_key(key) for key in read])
        replies = pipeline.execute()
        counts = [int(replies[2 * i]) for i in range(len(incr))]
        values = replies[-1] if read else []
        return Counts(counts, [int(v) if v is not None else 0 for v in values])

    def unhit(self, keys: Sequence[str], now: float | None = None) -> None:
        client = self.backend.client.get_client(write=True)
        pipeline = client.pipeline(transaction=True)
        for key in keys:
            pipeline.decr(self.backend.make_key(key))
        pipeline.execute()

    def peek(self, read: Sequence[str], now: float | None = None) -> list[int]:
        client = self.backend.client.get_client(write=False)
        values = client.mget([self.backend.make_key(key) for key in read]) if read else []
        return [max(0, int(v)) if v is not None else 0 for v in values]


class DatabaseCounters:
    name = "database"

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix

    def hit(self, incr: Incr, read: Sequence[str], now: float | None = None) -> Counts:
        if not incr:
            raise ValueError("hit() counts at least one key")
        keys = [self.prefix + key for key, _ in incr]
        reads = [self.prefix + key for key in read]
        values = ", ".join(["(%s, 1, to_timestamp(%s) + make_interval(secs => %s))"] * len(incr))
        sql = (
            f"WITH hit AS (INSERT INTO {TABLE} AS c (key, count, expires) VALUES {values} "  # noqa: S608 - constant table name
            "ON CONFLICT (key) DO UPDATE SET "
            "count = CASE WHEN c.expires <= to_timestamp(%s) THEN 1 ELSE c.count + 1 END, "
            "expires = CASE WHEN c.expires <= to_timestamp(%s) THEN EXCLUDED.expires "
            "ELSE c.expires END RETURNING key, count) "
            "SELECT key, count, true FROM hit UNION ALL "
            f"SELECT key, count, false FROM {TABLE} WHERE key = ANY(%s) "
            "AND expires > to_timestamp(%s)"
        )
        now = time.time() if now is None else now
        params = [v for key, (_, ttl) in zip(keys, incr, strict=True) for v in (key, now, ttl)]
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, now, now, reads, now])
            rows = cursor.fetchall()
        self._purge_now_and_then()
        incremented = {key: int(count) for key, count, was_hit in rows if was_hit}
        current = {key: int(count) for key, count, was_hit in rows if not was_hit}
        return Counts([incremented[k] for k in keys], [current.get(k, 0) for k in reads])

    def unhit(self, keys: Sequence[str], now: float | None = None) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} SET count = count - 1 WHERE key = ANY(%s) AND count > 0",  # noqa: S608
                [[self.prefix + key for key in keys]],
            )

    def peek(self, read: Sequence[str], now: float | None = None) -> list[int]:
        reads = [self.prefix + key for key in read]
        now = time.time() if now is None else now
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT key, count FROM {TABLE} WHERE key = ANY(%s) "  # noqa: S608
                "AND expires > to_timestamp(%s)",
                [reads, now],
            )
            current = dict(cursor.fetchall())
        return [int(current.get(key, 0)) for key in reads]

    @staticmethod
    def _purge_now_and_then() -> None:
        global _database_hits
        _database_hits += 1
        if _database_hits % PURGE_EVERY == 0:
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {TABLE} WHERE expires <= now()")  # noqa: S608


class LocalCounters:
    """This process's own counters: the fallback while the shared cache is unreachable."""

    name = "local"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}

    def hit(self, incr: Incr, read: Sequence[str], now: float | None = None) -> Counts:
        now = time.monotonic()
        with self._lock:
            if len(self._counts) > 10_000:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            counts = []
            for key, ttl in incr:
                count, expires = self._counts.get(key, (0, 0.0))
                if expires <= now:
                    count, expires = 0, now + ttl
                self._counts[key] = (count + 1, expires)
                counts.append(count + 1)
            read_counts = []
            for key in read:
                count, expires = self._counts.get(key, (0, 0.0))
                read_counts.append(count if expires > now else 0)
        return Counts(counts, read_counts)

    def unhit(self, keys: Sequence[str], now: float | None = None) -> None:
        with self._lock:
            for key in keys:
                count, expires = self._counts.get(key, (0, 0.0))
                if count > 0:
                    self._counts[key] = (count - 1, expires)

    def peek(self, read: Sequence[str], now: float | None = None) -> list[int]:
        moment = time.monotonic()
        with self._lock:
            entries = [self._counts.get(key, (0, 0.0)) for key in read]
        return [count if expires > moment else 0 for count, expires in entries]


def _is_redis(backend) -> bool:
    client = getattr(backend, "client", None)
    return hasattr(client, "get_client") and hasattr(backend, "make_key")


def shared_counters():
    """The counters every web process shares: Redis when it is the cache, else Postgres."""
    if _is_redis(cache):
        return RedisCounters(cache)
    prefix = cache.key_prefix if isinstance(cache, DatabaseCache) else ""
    return DatabaseCounters(prefix=f"{prefix}:" if prefix else "")
