"""What the shared store offers: the few operations its callers need, each one round trip.

Values (any picklable object; an int is a counter) live until their seconds to live pass,
or until deleted when that is None. Counters count from 1 when made or expired, and a
counter's expiry is set when it is made and never moved by a later hit: a key that names a
fixed window (`…:<window number>`) keeps its count for its whole window.

Every method raises when the store does not answer (Redis: `CACHE_ERRORS`; Postgres: the
database's errors); the caller decides whether that is a miss, a dropped write or an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from redis import Redis

Entry = tuple[str, Any, int | None]  # key, value, seconds to live (None: until deleted)
Incr = Sequence[tuple[str, int | None]]  # key, seconds to keep it once made (None: ever)


@dataclass(frozen=True)
class Counts:
    incremented: list[int]  # each incremented key's new count
    read: list[int]  # each read key's count (0 when missing or expired)


class Counters(Protocol):
    """Atomic counters shared by every process: rate limits, the breaker, revisions.
    `now` is the caller's clock (the rate limits' one moves in tests); Redis keys expire by
    Redis' own clock, Postgres rows by `now`."""

    name: str  # "redis" | "database" | "local"

    def hit(self, incr: Incr, read: Sequence[str] = (), now: float | None = None) -> Counts:
        """Add one to each key of `incr` and read each key of `read`, atomically."""
        ...

    def unhit(self, keys: Sequence[str], now: float | None = None) -> None:
        """Take one back from each key (never below 0 on read)."""
        ...

    def peek(self, read: Sequence[str], now: float | None = None) -> list[int]:
        """The keys' counts, without counting."""
        ...


class Store(Counters, Protocol):
    """The shared store: Redis with REDIS_URL, else a table of our own in Postgres
    (`config.store.choice` picks one once)."""

    # Its writes go to the database: inside a caller's transaction they must be made on the
    # caller's connection (another one would not see, nor roll back with, that transaction).
    uses_database: bool
    # What is put before every key (deployments sharing a Redis or a database stay apart).
    prefix: str
    # The Redis client, for a caller with scripts of its own (the outbound limits' Lua), or
    # None without Redis.
    redis: Redis | None

    def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        """The values of the keys that are there and not expired."""
        ...

    def set_many(self, entries: Sequence[Entry]) -> None:
        """Write each entry with its own lifetime (a ttl ≤ 0 makes it expired)."""
        ...

    def lookup(self, keys: Sequence[str], *, save: Sequence[Entry] = ()) -> dict[str, Any]:
        """`get_many(keys)` and `set_many(save)` in one round trip (the read does not see
        the saved entries: save none of the keys read)."""
        ...

    def add(self, key: str, value: Any, ttl: int | None) -> bool:
        """Write the value only if the key is missing or expired; whether it was written."""
        ...

    def delete_many(self, keys: Sequence[str]) -> None: ...

    def ping(self) -> None:
        """Raise unless the store answers (`/healthz`)."""
        ...

    def clear(self) -> None:
        """Delete every entry under this store's prefix (a benchmark's or a test's run)."""
        ...

    def purge_expired(self) -> int:
        """Forget what is past its time, if the store does not itself (the reaper's schedule)."""
        ...
