"""Whose synthetic catalog is whose: each `bench_search` run claims its catalog with a Postgres
advisory lock; what no running process claims was left by a killed run and is removed. Also who
holds the locks a run waits for, to name them when it gives up."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from analysis.vector_indexes import NAME_PREFIXES
from search.benchmark.synthetic import (
    ANALYSIS,
    CATALOG,
    CATALOG_PREFIX,
    EMBEDDING,
    IMAGE,
    MATERIAL,
    SyntheticCatalog,
    raw_connection,
    synthetic_catalog_drop,
)

# The benchmark's index names: any method, image or description, of run `bench-<run>`.
_INDEX_OF_RUN = re.compile(
    rf"^(?:{'|'.join(NAME_PREFIXES.values())})_bench_(?:text_)?([0-9a-z]+)_(?:image|description)$"
)


def lock_holders() -> list[str]:
    """The other sessions that hold a lock on the tables the benchmark writes: pid, state,
    how long and the start of their statement (for an error message)."""
    tables = [EMBEDDING, ANALYSIS, IMAGE, MATERIAL, CATALOG]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT a.pid, a.state, date_trunc('second', now() - a.xact_start), "
            "left(a.query, 80) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.relation = ANY(%s::regclass[]) AND a.pid <> pg_backend_pid() "
            "ORDER BY a.pid",
            [tables],
        )
        return [
            f"pid {pid} ({state}, transaction open for {age}): {query}"
            for pid, state, age, query in cursor.fetchall()
        ]


def _claim_key(run: str) -> int:
    digest = hashlib.sha256(f"swatch-bench-search:{run}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def synthetic_run_claimed(catalog: SyntheticCatalog) -> Iterator[None]:
    """Hold this run's claim (a Postgres advisory lock on a connection of its own) while it
    runs: the lock goes with the connection, so a run killed with -9 leaves an unclaimed
    catalog that the next run removes (`synthetic_catalogs_abandoned_drop`)."""
    raw = raw_connection()
    try:
        raw.execute("SELECT pg_advisory_lock(%s)", [_claim_key(catalog.run)])
        yield
    finally:
        raw.close()


def _leftover_runs(cursor) -> set[str]:
    cursor.execute(f"SELECT name FROM {CATALOG} WHERE name LIKE %s", [f"{CATALOG_PREFIX}%"])  # noqa: S608 - constant table
    runs = {name.removeprefix(CATALOG_PREFIX) for (name,) in cursor.fetchall()}
    cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname ~ %s", [_INDEX_OF_RUN.pattern])
    for (name,) in cursor.fetchall():
        match = _INDEX_OF_RUN.match(name)
        if match:
            runs.add(match.group(1))
    return runs


def synthetic_catalogs_abandoned_drop() -> list[str]:
    """Remove the catalogs (rows and indexes) of earlier runs that no process claims any more
    (killed before their cleanup); a running one is left alone. Returns their run ids."""
    raw = raw_connection()
    removed = []
    try:
        with raw.cursor() as cursor:
            runs = sorted(_leftover_runs(cursor))
        for run in runs:
            key = _claim_key(run)
            if not raw.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()[0]:
                continue  # its run is still going
            try:
                synthetic_catalog_drop(catalog=SyntheticCatalog(run=run))
                removed.append(run)
            finally:
                raw.execute("SELECT pg_advisory_unlock(%s)", [key])
    finally:
        raw.close()
    return removed
