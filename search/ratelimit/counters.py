"""Window counters: the shared store's atomic counters (`config.store.Counters`: Redis, else
Postgres), and this process's own while the store is unreachable (`LocalCounters`).

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

from config.store import Counters, Counts, Incr, store

__all__ = ["Counts", "LocalCounters", "shared_counters"]


class LocalCounters:
    """This process's own counters: the fallback while the shared cache is unreachable."""

    name = "local"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}

    def hit(self, incr: Incr, read: Sequence[str] = (), now: float | None = None) -> Counts:
        now = time.monotonic()
        with self._lock:
            if len(self._counts) > 10_000:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            counts = []
            for key, ttl in incr:
                count, expires = self._counts.get(key, (0, 0.0))
                if expires <= now:
                    count, expires = 0, now + (ttl if ttl is not None else float("inf"))
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


def shared_counters() -> Counters:
    """The counters every web process shares: the shared store's (Redis, else Postgres)."""
    return store()
