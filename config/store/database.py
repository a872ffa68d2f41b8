"""The shared store in Postgres, without Redis: one statement per operation on our own
UNLOGGED table `swatch_store` (migration config.0001): no write waits for the disk, and a
crash only empties it, as it may a cache.

A row is a value (pickled, `value`) or a counter (`count`): an int is a counter, so what
`hit` counts `get_many` reads. `expires` NULL means until deleted. A counter's upsert
restarts an expired row at 1 and sets its expiry only then, so concurrent hits are exact and
a window keeps its count for its whole span.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Sequence
from typing import Any

from django.db import connections, router

from config.models import StoreEntry
from config.store.protocol import Counts, Entry, Incr

TABLE = StoreEntry._meta.db_table
PURGE_EVERY = 1000  # writes of one process between two deletes of expired rows
_LIVE = "(expires IS NULL OR expires > to_timestamp(%s))"
_UPSERT = (
    f"INSERT INTO {TABLE} AS s (key, value, count, expires) VALUES {{rows}} "  # noqa: S608 - constant table
    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, count = EXCLUDED.count, "
    "expires = EXCLUDED.expires"
)
_HIT = (
    f"INSERT INTO {TABLE} AS s (key, count, expires) VALUES {{rows}} "  # noqa: S608 - constant table
    "ON CONFLICT (key) DO UPDATE SET value = NULL, "
    "count = CASE WHEN s.expires <= to_timestamp(%s) THEN 1 ELSE coalesce(s.count, 0) + 1 END, "
    "expires = CASE WHEN s.expires <= to_timestamp(%s) THEN EXCLUDED.expires ELSE s.expires END "
    "RETURNING key, count"
)
_ROW = "(%s, %s::bytea, %s::bigint, to_timestamp(%s))"
_COUNTER_ROW = "(%s, 1, to_timestamp(%s))"


def _expires(ttl: int | None, now: float) -> float | None:
    return None if ttl is None else now + ttl


def _columns(value: Any) -> tuple[bytes | None, int | None]:
    if isinstance(value, int) and not isinstance(value, bool):
        return None, value
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL), None


def _value(value: bytes | memoryview | None, count: int | None) -> Any:
    if value is None:
        return int(count)
    return pickle.loads(bytes(value))  # noqa: S301 - our own rows


class DatabaseStore:
    name = "database"
    uses_database = True
    redis = None

    def __init__(self, prefix: str = "") -> None:
        self.prefix = f"{prefix}:" if prefix else ""
        self._writes = 0

    def _cursor(self):
        return connections[router.db_for_write(StoreEntry)].cursor()

    def _rows(self, entries: Sequence[Entry], now: float) -> tuple[str, list[Any]]:
        params: list[Any] = []
        for key, value, ttl in entries:
            params += [self.prefix + key, *_columns(value), _expires(ttl, now)]
        return ", ".join([_ROW] * len(entries)), params

    def _wrote(self) -> None:
        self._writes += 1
        if self._writes % PURGE_EVERY == 0:
            self.purge_expired()

    def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        return self.lookup(keys)

    def set_many(self, entries: Sequence[Entry]) -> None:
        if not entries:
            return
        rows, params = self._rows(entries, time.time())
        with self._cursor() as cursor:
            cursor.execute(_UPSERT.format(rows=rows), params)
        self._wrote()

    def lookup(self, keys: Sequence[str], *, save: Sequence[Entry] = ()) -> dict[str, Any]:
        return self._found(keys, time.time(), save=save)

    def _found(self, keys: Sequence[str], now: float, *, save: Sequence[Entry] = ()) -> dict:
        if not keys:
            self.set_many(save)
            return {}
        named = {self.prefix + key: key for key in keys}
        select = f"SELECT key, value, count FROM {TABLE} WHERE key = ANY(%s) AND {_LIVE}"  # noqa: S608
        sql, params = select, [list(named), now]
        if save:
            rows, saved = self._rows(save, now)
            sql, params = f"WITH saved AS ({_UPSERT.format(rows=rows)}) {select}", [*saved, *params]
        with self._cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        if save:
            self._wrote()
        return {named[key]: _value(value, count) for key, value, count in found}

    def add(self, key: str, value: Any, ttl: int | None) -> bool:
        now = time.time()
        rows, params = self._rows([(key, value, ttl)], now)
        sql = _UPSERT.format(rows=rows) + " WHERE s.expires <= to_timestamp(%s) RETURNING key"
        with self._cursor() as cursor:
            cursor.execute(sql, [*params, now])
            added = cursor.fetchone() is not None
        self._wrote()
        return added

    def delete_many(self, keys: Sequence[str]) -> None:
        if keys:
            with self._cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {TABLE} WHERE key = ANY(%s)",  # noqa: S608
                    [[self.prefix + key for key in keys]],
                )

    def hit(self, incr: Incr, read: Sequence[str] = (), now: float | None = None) -> Counts:
        if not incr:
            raise ValueError("hit() counts at least one key")
        now = time.time() if now is None else now
        keys = [self.prefix + key for key, _ in incr]
        reads = [self.prefix + key for key in read]
        params = [
            v for key, (_, ttl) in zip(keys, incr, strict=True) for v in (key, _expires(ttl, now))
        ]
        upsert = _HIT.format(rows=", ".join([_COUNTER_ROW] * len(incr)))
        sql = (
            f"WITH hit AS ({upsert}) SELECT key, count, true FROM hit UNION ALL "  # noqa: S608
            f"SELECT key, coalesce(count, 0), false FROM {TABLE} WHERE key = ANY(%s) AND {_LIVE}"
        )
        with self._cursor() as cursor:
            cursor.execute(sql, [*params, now, now, reads, now])
            rows = cursor.fetchall()
        self._wrote()
        incremented = {key: int(count) for key, count, was_hit in rows if was_hit}
        current = {key: int(count) for key, count, was_hit in rows if not was_hit}
        return Counts([incremented[k] for k in keys], [current.get(k, 0) for k in reads])

    def unhit(self, keys: Sequence[str], now: float | None = None) -> None:
        with self._cursor() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} SET count = count - 1 WHERE key = ANY(%s) AND count > 0",  # noqa: S608
                [[self.prefix + key for key in keys]],
            )

    def peek(self, read: Sequence[str], now: float | None = None) -> list[int]:
        if not read:
            return []
        found = self._found(read, time.time() if now is None else now)
        return [max(0, v) if isinstance(v, int) else 0 for v in (found.get(k) for k in read)]

    def ping(self) -> None:
        with self._cursor() as cursor:
            cursor.execute("SELECT 1")

    def clear(self) -> None:
        with self._cursor() as cursor:
            if self.prefix:
                like = self.prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                cursor.execute(f"DELETE FROM {TABLE} WHERE key LIKE %s", [like + "%"])  # noqa: S608
            else:
                cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608

    def purge_expired(self) -> int:
        """Forget the rows past their time (Redis expires its own)."""
        with self._cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE expires <= now()")  # noqa: S608
            return cursor.rowcount
