"""Run a search's strategies side by side, each on a database connection of its own.

A fused search waits on two HNSW scans (image and description vectors) that do not depend on
each other; run one after the other, a search costs their sum, run side by side about the
slower one (psycopg releases the GIL while Postgres works). The others than the first run on
a few worker threads (`search.threads`), each keeping its own connection (Django's
connections are per thread), so there is no connect per search.

Inside a caller's transaction the strategies run in the calling thread, one after the
other: another connection could not see that transaction's rows (a test's, an import's).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.db import connection

from search.threads import WorkerPool

T = TypeVar("T")
_pool = WorkerPool("swatch-strategy")


def side_by_side(tasks: Mapping[str, Callable[[], T]], *, workers: int) -> dict[str, T]:
    """Each task's result by name. The first task runs in the calling thread, the others on
    up to `workers` worker threads; all in the calling thread when `workers` is 0, when there
    is a single task, or inside a transaction."""
    names = list(tasks)
    if workers <= 0 or len(names) < 2 or connection.in_atomic_block:
        return {name: tasks[name]() for name in names}
    futures = {name: _pool.submit(tasks[name], workers=workers) for name in names[1:]}
    results: dict[str, Any] = {names[0]: tasks[names[0]]()}
    for name, future in futures.items():
        results[name] = future.result()
    return results


def side_by_side_close() -> None:
    """Stop the worker threads and close their connections (a test database cannot be
    dropped while they hold it open); the next search starts them again."""
    _pool.close()
