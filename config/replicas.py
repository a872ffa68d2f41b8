"""Read replicas for search: a Django database router and the choice of a replica per search.

With `DATABASE_REPLICA_URLS` set, each replica is a database alias (`replica_0`, …). A search
(`search_reads()`, entered by the search service) reads from one of them; everything else —
writes, pages, the admin, the API's other reads, the cache table — uses the primary. A search
reads the primary instead when:

- this request (or thread) has changed the catalog (a write to the `materials` or `analysis`
  models): it must find what it just wrote;
- the client changed the catalog within `SWATCH_REPLICA_PIN_SECONDS` (the pin cookie that
  `ReplicaPinMiddleware` sets on such a request's response);
- the primary's connection is inside a transaction (rows only that transaction sees);
- no replica is within `SWATCH_REPLICA_MAX_LAG_SECONDS` of the primary (each replica's lag is
  read from it at most once every `LAG_CHECK_SECONDS`), or none answers.

A replica within the allowed lag may still miss the last seconds of writes: a search there does
not see a material another client created a moment ago until the replica has replayed it
(README, "Read replicas"; tested in tests/config/test_read_replicas.py).
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger("swatch.database")

CATALOG_APPS = frozenset({"materials", "analysis"})
PRIMARY_ONLY_APPS = frozenset({"django_cache"})  # the database cache: one truth, the primary's
PIN_COOKIE = "swatch_primary"
LAG_SQL = (
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 "
    "WHEN pg_last_wal_receive_lsn() IS NULL "
    "OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 1e9) END"
)

_search_alias: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "swatch_search_alias", default=None
)
_wrote: contextvars.ContextVar[bool] = contextvars.ContextVar("swatch_wrote", default=False)
_pinned: contextvars.ContextVar[bool] = contextvars.ContextVar("swatch_pinned", default=False)
_turn = itertools.count()
_lock = threading.Lock()
_checked: dict[str, tuple[float, bool]] = {}  # alias → (when, usable)


def _config() -> dict:
    return getattr(settings, "SWATCH_REPLICAS", None) or {}


def replica_aliases() -> list[str]:
    return list(_config().get("ALIASES", ()))


def catalog_written() -> None:
    """This request (or thread) changed the catalog: its searches read the primary from now on."""
    _wrote.set(True)


def primary_pinned() -> bool:
    return _wrote.get() or _pinned.get()


def replica_lag_seconds(alias: str) -> float:
    """How far `alias` is behind its primary: 0 when it has replayed all it received."""
    with connections[alias].cursor() as cursor:
        cursor.execute(LAG_SQL)
        return float(cursor.fetchone()[0])


def replica_failed(alias: str) -> None:
    """`alias` failed a search: left out until its next check."""
    with _lock:
        _checked[alias] = (time.monotonic(), False)
    try:
        connections[alias].close()
    except DatabaseError:
        pass


def _usable(alias: str) -> bool:
    config = _config()
    now = time.monotonic()
    with _lock:
        checked = _checked.get(alias)
    if checked is not None and now - checked[0] < float(config.get("LAG_CHECK_SECONDS", 1.0)):
        return checked[1]
    try:
        lag = replica_lag_seconds(alias)
        usable = lag <= float(config.get("MAX_LAG_SECONDS", 10.0))
        if not usable:
            logger.warning("replica %s is %.1f s behind: searches read elsewhere", alias, lag)
    except DatabaseError as exc:
        logger.warning("replica %s does not answer (%s): searches read elsewhere", alias, exc)
        usable = False
        connections[alias].close()
    with _lock:
        _checked[alias] = (now, usable)
    return usable


def search_read_alias() -> str:
    """The database a search about to start reads from (see the module's docstring)."""
    aliases = replica_aliases()
    if not aliases or primary_pinned() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    start = next(_turn)
    for offset in range(len(aliases)):
        alias = aliases[(start + offset) % len(aliases)]
        if _usable(alias):
            return alias
    return DEFAULT_DB_ALIAS


def current_read_alias() -> str:
    """The database the running search reads from (the primary outside a search)."""
    return _search_alias.get() or DEFAULT_DB_ALIAS


@contextmanager
def search_reads(alias: str | None = None) -> Iterator[str]:
    """Within: the search's reads go to `alias` (default: `search_read_alias()`); a search
    inside a search keeps the outer one's database."""
    outer = _search_alias.get()
    chosen = alias or outer or search_read_alias()
    token = _search_alias.set(chosen)
    try:
        yield chosen
    finally:
        _search_alias.reset(token)


@contextmanager
def request_scope(*, pinned: bool) -> Iterator[contextvars.ContextVar[bool]]:
    """One web request: whether its client is pinned to the primary, and (the value of the
    yielded variable afterwards) whether it changed the catalog."""
    wrote, pin = _wrote.set(False), _pinned.set(pinned)
    try:
        yield _wrote
    finally:
        _wrote.reset(wrote)
        _pinned.reset(pin)


class PrimaryReplicaRouter:
    """Reads inside a search go to the search's database; all else to the primary."""

    def db_for_read(self, model, **hints) -> str | None:
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return DEFAULT_DB_ALIAS
        return _search_alias.get()

    def db_for_write(self, model, **hints) -> str:
        if model._meta.app_label in CATALOG_APPS:
            catalog_written()
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # one database, copied

    def allow_migrate(self, db, app_label, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS


class ReplicaPinMiddleware:
    """A request that changed the catalog pins its client to the primary for a while (a
    cookie), so its next searches find what it wrote even when the replicas lag."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if not replica_aliases():
            return self.get_response(request)
        with request_scope(pinned=PIN_COOKIE in request.COOKIES) as wrote:
            response = self.get_response(request)
            changed = wrote.get()
        seconds = int(_config().get("PIN_SECONDS", 0))
        if changed and seconds > 0:
            response.set_cookie(PIN_COOKIE, "1", max_age=seconds, httponly=True, samesite="Lax")
        return response
