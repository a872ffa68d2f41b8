"""Statements of the search hot path, prepared once per database connection.

Planning these queries costs more than running them: Postgres weighs every index of the tables
they touch, and the embedding table carries a partial HNSW index per model. A search runs them
on every request, so each connection plans them once (`PREPARE`) and from then on only runs
them (`EXECUTE`); measured on the 100k benchmark catalog, a material's query inputs went from
~0.6 ms to ~0.15 ms a query.

A prepared statement lives as long as the database session and survives rollbacks; a new
connection prepares it again. Behind a proxy that pools connections per transaction (e.g.
PgBouncer in transaction mode) sessions are not the connection's own: set
`SWATCH_SEARCH_PREPARED_STATEMENTS=false` there and the plain statements run instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import ProgrammingError
from psycopg import errors

from search.database import connection

_PLACEHOLDER = re.compile(r"%s")


@dataclass(frozen=True)
class Statement:
    """A query with `%s` placeholders (as for `cursor.execute`) and its parameters' types."""

    name: str
    sql: str
    types: tuple[str, ...]
    prepare_sql: str = field(init=False)

    def __post_init__(self) -> None:
        counter = iter(range(1, len(self.types) + 1))
        numbered = _PLACEHOLDER.sub(lambda _: f"${next(counter)}", self.sql)
        if next(counter, None) is not None:
            raise ValueError(f"{self.name}: {len(self.types)} types for fewer placeholders")
        object.__setattr__(
            self, "prepare_sql", f"PREPARE {self.name}({', '.join(self.types)}) AS {numbered}"
        )

    @property
    def execute_sql(self) -> str:
        return f"EXECUTE {self.name}({', '.join(['%s'] * len(self.types))})"


def _enabled() -> bool:
    return bool(settings.SWATCH_SEARCH.get("PREPARED_STATEMENTS", True))


def prepared_execute(cursor, statement: Statement, params: Sequence) -> None:
    """`cursor.execute(statement.sql, params)`, through a statement this connection prepared
    (preparing it on first use)."""
    if not _enabled():
        cursor.execute(statement.sql, params)
        return
    raw = connection.connection
    prepared: set[str] = getattr(raw, "_swatch_prepared", None) or set()
    raw._swatch_prepared = prepared
    if statement.name not in prepared:
        cursor.execute(statement.prepare_sql)
        prepared.add(statement.name)
    try:
        cursor.execute(statement.execute_sql, params)
    except ProgrammingError as exc:
        if not isinstance(exc.__cause__, errors.InvalidSqlStatementName):
            raise
        # The session lost its statements (a reset behind our back): all of them. Outside a
        # transaction the connection is still usable: prepare again, once; inside one the
        # transaction is aborted, and the next use of each statement prepares it again.
        prepared.clear()
        if not connection.get_autocommit():
            raise
        cursor.execute(statement.prepare_sql)
        prepared.add(statement.name)
        cursor.execute(statement.execute_sql, params)
