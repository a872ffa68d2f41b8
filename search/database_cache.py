"""The search's own reads and writes of the database cache (no Redis): one statement each.

Django's `DatabaseCache.set` takes four statements and a transaction per key (a count of the
whole table, a select, an insert or update); a search writes two keys. Here a lookup reads its
keys and saves the query state in one statement, and a write upserts all its entries in one.
The values are encoded as `DatabaseCache` encodes them, so its `get` reads them back. The table
is UNLOGGED (migration `search.0003`): no WAL, so an autocommitted write does not wait for the
disk, and a crash empties the cache, which is what a cache may do. Culling expired entries is
left to `DatabaseCache`'s own writes (rate limits, the breaker), which run it.
"""

from __future__ import annotations

import base64
import pickle
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router
from django.utils import timezone

Entry = tuple[str, Any, int]  # key, value, seconds to live


def database_cache() -> DatabaseCache | None:
    backend = caches[DEFAULT_CACHE_ALIAS]
    return backend if isinstance(backend, DatabaseCache) else None


def _row(backend: DatabaseCache, entry: Entry) -> tuple[str, str, datetime]:
    key, value, ttl = entry
    encoded = base64.b64encode(pickle.dumps(value, backend.pickle_protocol)).decode("latin1")
    expires = datetime.fromtimestamp(int(time.time() + ttl), tz=UTC)
    return backend.make_and_validate_key(key), encoded, expires


def _upsert_sql(table: str, rows: int) -> str:
    values = ", ".join(["(%s, %s, %s)"] * rows)
    return (
        f"INSERT INTO {table} (cache_key, value, expires) VALUES {values} "  # noqa: S608 - quoted table name
        "ON CONFLICT (cache_key) DO UPDATE SET value = EXCLUDED.value, expires = EXCLUDED.expires"
    )


def _connection(backend: DatabaseCache):
    return connections[router.db_for_write(backend.cache_model_class)]


def database_cache_lookup(
    backend: DatabaseCache, keys: Sequence[str], *, save: Iterable[Entry] = ()
) -> dict[str, Any]:
    """The values of `keys` that are there and not expired; `save`'s entries written by the
    same statement (it does not see them: save none of the keys it reads)."""
    database = _connection(backend)
    table = database.ops.quote_name(backend._table)
    rows = [_row(backend, entry) for entry in save]
    db_keys = {backend.make_and_validate_key(key): key for key in keys}
    select = f"SELECT cache_key, value, expires FROM {table} WHERE cache_key = ANY(%s)"  # noqa: S608 - quoted table name
    params: list[Any] = [item for row in rows for item in row]
    sql = f"WITH saved AS ({_upsert_sql(table, len(rows))}) {select}" if rows else select
    with database.cursor() as cursor:
        cursor.execute(sql, [*params, list(db_keys)])
        found = cursor.fetchall()
    now = timezone.now()
    return {
        db_keys[db_key]: pickle.loads(base64.b64decode(value.encode()))  # noqa: S301 - our own cache rows
        for db_key, value, expires in found
        if expires > now
    }


def database_cache_write(backend: DatabaseCache, entries: Sequence[Entry]) -> None:
    """Upsert the entries in one statement."""
    if not entries:
        return
    database = _connection(backend)
    table = database.ops.quote_name(backend._table)
    rows = [_row(backend, entry) for entry in entries]
    with database.cursor() as cursor:
        cursor.execute(_upsert_sql(table, len(rows)), [item for row in rows for item in row])
