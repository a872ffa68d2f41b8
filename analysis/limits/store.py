"""Counters every process shares, for the outbound limits: on the shared store's Redis
(config/store) when there is one, else PostgreSQL (the UNLOGGED table of migration
analysis.0009). Falls back to the database while Redis is unreachable, so the count stays
shared (a money budget must not be counted per process).

A window of `seconds` is 60 buckets of `seconds / 60`; a request is admitted only if the
buckets it could share any `seconds`-long span with — its own and the 60 before — hold room
for it. So no span of `seconds` ever holds more than the limit (at the price of a window one
bucket longer: 60 requests per 61 s at 60 a minute). `reserve` checks every window and counts
in all or none, atomically: a Lua script on Redis, a transaction under an advisory lock on
PostgreSQL.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction

from config.errors.outages import CACHE_ERRORS
from config.store import store

logger = logging.getLogger("swatch.limits")

BUCKETS = 60
TABLE = "swatch_model_limit_counter"

_RESERVE = """
local n = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
local counts = redis.call('MGET', unpack(KEYS))
local ok = 1
for w = 0, n - 1 do
  local limit = tonumber(ARGV[3 + w * 3])
  local amount = tonumber(ARGV[4 + w * 3])
  local sum = 0
  for k = 1, span do sum = sum + math.max(0, tonumber(counts[w * span + k] or '0')) end
  if amount > 0 and sum + amount > limit then ok = 0 end
end
if ok == 1 then
  for w = 0, n - 1 do
    local amount = tonumber(ARGV[4 + w * 3])
    if amount > 0 then
      redis.call('INCRBY', KEYS[w * span + span], amount)
      redis.call('EXPIRE', KEYS[w * span + span], ARGV[5 + w * 3])
    end
  end
end
return {ok, counts}
"""

_SLOT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(current + tonumber(ARGV[1]), tonumber(ARGV[2]))
redis.call('SET', KEYS[1], slot, 'EX', ARGV[3])
return slot
"""


@dataclass(frozen=True)
class Window:
    key: str  # e.g. "limit:openai:requests"
    limit: int
    seconds: int
    amount: int = 0  # what this request adds

    @property
    def bucket_seconds(self) -> float:
        return self.seconds / BUCKETS

    def bucket(self, now: float) -> int:
        return math.floor(now / self.bucket_seconds)

    def keys(self, now: float) -> list[str]:
        """The bucket keys a request at `now` is checked against, oldest first."""
        current = self.bucket(now)
        return [f"{self.key}:{i}" for i in range(current - BUCKETS, current + 1)]


@dataclass(frozen=True)
class Counted:
    admitted: bool
    buckets: list[list[int]]  # per window, the counts before this request, oldest first
    backend: str


def _redis_reserve(client, windows: Sequence[Window], now: float) -> Counted:
    keys = [store().prefix + k for w in windows for k in w.keys(now)]
    args: list[int] = [len(windows), BUCKETS + 1]
    for w in windows:
        args += [w.limit, w.amount, 2 * w.seconds + 60]
    ok, raw = client.eval(_RESERVE, len(keys), *keys, *args)
    counts = [max(0, int(v)) if v is not None else 0 for v in raw]
    span = BUCKETS + 1
    return Counted(
        bool(ok), [counts[i * span : (i + 1) * span] for i in range(len(windows))], "redis"
    )


def _lock_id(windows: Sequence[Window]) -> str:
    return "|".join(sorted({w.key.rsplit(":", 1)[0] for w in windows}))


def _prefixed(key: str) -> str:
    """A database key under the store's prefix: deployments sharing a database stay apart."""
    return store().prefix + key


def _database_reserve(windows: Sequence[Window], now: float) -> Counted:
    keys = [_prefixed(k) for w in windows for k in w.keys(now)]
    with transaction.atomic(), connection.cursor() as cursor:
        # One reservation of a provider at a time: the check and the count are one step.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_prefixed(_lock_id(windows))])
        cursor.execute(f"SELECT key, count FROM {TABLE} WHERE key = ANY(%s)", [keys])  # noqa: S608
        found = {key: max(0, int(count)) for key, count in cursor.fetchall()}
        buckets = [[found.get(_prefixed(k), 0) for k in w.keys(now)] for w in windows]
        admitted = all(
            w.amount <= 0 or sum(counts) + w.amount <= w.limit
            for w, counts in zip(windows, buckets, strict=True)
        )
        if admitted:
            for w in windows:
                if w.amount > 0:
                    _database_add(cursor, _prefixed(w.keys(now)[-1]), w.amount, 2 * w.seconds + 60)
    return Counted(admitted, buckets, "database")


def _database_add(cursor, key: str, amount: int, ttl: int) -> None:
    cursor.execute(
        f"INSERT INTO {TABLE} AS c (key, count, expires) "  # noqa: S608 - constant table name
        "VALUES (%s, %s, now() + make_interval(secs => %s)) "
        "ON CONFLICT (key) DO UPDATE SET count = c.count + EXCLUDED.count",
        [key, amount, ttl],
    )


def _fallback(what: str, exc: BaseException) -> None:
    logger.warning("limits: Redis unreachable for %s (%s): counting in the database", what, exc)


def reserve(windows: Sequence[Window], now: float) -> Counted:
    """Count each window's `amount` if every window has room for it, else count nothing."""
    client = store().redis
    if client is not None:
        try:
            return _redis_reserve(client, windows, now)
        except CACHE_ERRORS as exc:
            _fallback("a reservation", exc)
    return _database_reserve(windows, now)


def add(key: str, amount: int, ttl: int) -> None:
    """Add `amount` (may be negative: a correction) to one bucket."""
    client = store().redis
    if client is not None:
        try:
            full = store().prefix + key
            pipeline = client.pipeline(transaction=True)
            pipeline.incrby(full, amount)
            pipeline.expire(full, ttl)
            pipeline.execute()
            return
        except CACHE_ERRORS as exc:
            _fallback("a correction", exc)
    with connection.cursor() as cursor:
        _database_add(cursor, _prefixed(key), amount, ttl)


def next_slot(key: str, *, earliest: float, interval: float, ttl: int) -> float:
    """A time at or after `earliest`, `interval` after the last one handed out under `key`:
    deferred work is spread over the window instead of all waking at once."""
    earliest_ms, interval_ms = math.ceil(earliest * 1000), math.ceil(interval * 1000)
    client = store().redis
    if client is not None:
        try:
            slot = client.eval(_SLOT, 1, store().prefix + key, interval_ms, earliest_ms, ttl)
            return int(slot) / 1000
        except CACHE_ERRORS as exc:
            _fallback("a deferral slot", exc)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} AS c (key, count, expires) "  # noqa: S608
            "VALUES (%s, %s, now() + make_interval(secs => %s)) ON CONFLICT (key) DO UPDATE "
            "SET count = GREATEST(c.count + %s, EXCLUDED.count), expires = EXCLUDED.expires "
            "RETURNING count",
            [_prefixed(key), earliest_ms, ttl, interval_ms],
        )
        return int(cursor.fetchone()[0]) / 1000


def purge_expired() -> int:
    """Forget database buckets past their time (Redis expires its own)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE expires <= now()")  # noqa: S608
        return cursor.rowcount
