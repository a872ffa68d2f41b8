"""The shared store on Redis: each operation one round trip (a pipeline, MULTI where it
must be atomic).

Keys follow the layout of Django's default key function (`<prefix>:1:<key>`), and values are
encoded as django-redis encodes them (an int as its digits, so `INCR` works on it; anything
else pickled): the Django cache on the same Redis sees the same entries.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import redis

from config.store.protocol import Counts, Entry, Incr


def _encode(value: Any) -> bytes | int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


def _decode(raw: bytes) -> Any:
    try:
        return int(raw)
    except ValueError:
        return pickle.loads(raw)  # noqa: S301 - our own entries


def _batches(items: Iterable[bytes], size: int) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _count(raw: bytes | None) -> int:
    return max(0, int(raw)) if raw is not None else 0


class RedisStore:
    name = "redis"
    uses_database = False

    def __init__(self, url: str, *, prefix: str = "", timeout: float | None = None) -> None:
        self.prefix = f"{prefix}:1:"
        self.redis = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )

    def _key(self, key: str) -> str:
        return self.prefix + key

    def _set(self, pipeline, entry: Entry) -> None:
        key, value, ttl = entry
        if ttl is not None and ttl <= 0:
            pipeline.delete(self._key(key))
        else:
            pipeline.set(self._key(key), _encode(value), ex=ttl)

    def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        return self.lookup(keys)

    def set_many(self, entries: Sequence[Entry]) -> None:
        if not entries:
            return
        pipeline = self.redis.pipeline(transaction=False)
        for entry in entries:
            self._set(pipeline, entry)
        pipeline.execute()

    def lookup(self, keys: Sequence[str], *, save: Sequence[Entry] = ()) -> dict[str, Any]:
        if not keys:
            self.set_many(save)
            return {}
        pipeline = self.redis.pipeline(transaction=False)
        pipeline.mget([self._key(key) for key in keys])
        for entry in save:
            self._set(pipeline, entry)
        values = pipeline.execute()[0]
        return {k: _decode(v) for k, v in zip(keys, values, strict=True) if v is not None}

    def add(self, key: str, value: Any, ttl: int | None) -> bool:
        return bool(self.redis.set(self._key(key), _encode(value), ex=ttl, nx=True))

    def delete_many(self, keys: Sequence[str]) -> None:
        if keys:
            self.redis.delete(*[self._key(key) for key in keys])

    def hit(self, incr: Incr, read: Sequence[str] = (), now: float | None = None) -> Counts:
        pipeline = self.redis.pipeline(transaction=True)
        for key, ttl in incr:
            pipeline.incr(self._key(key))
            if ttl is not None:
                pipeline.expire(self._key(key), ttl, nx=True)
        if read:
            pipeline.mget([self._key(key) for key in read])
        replies = pipeline.execute()
        counts, position = [], 0
        for _, ttl in incr:
            counts.append(int(replies[position]))
            position += 1 if ttl is None else 2
        return Counts(counts, [_count(v) for v in replies[-1]] if read else [])

    def unhit(self, keys: Sequence[str], now: float | None = None) -> None:
        pipeline = self.redis.pipeline(transaction=True)
        for key in keys:
            pipeline.decr(self._key(key))
        pipeline.execute()

    def peek(self, read: Sequence[str], now: float | None = None) -> list[int]:
        return [_count(v) for v in self.redis.mget([self._key(k) for k in read])] if read else []

    def ping(self) -> None:
        self.redis.ping()

    def clear(self) -> None:
        for keys in _batches(self.redis.scan_iter(match=f"{self.prefix}*", count=1000), 1000):
            self.redis.delete(*keys)

    def purge_expired(self) -> int:
        return 0  # Redis expires its own keys
