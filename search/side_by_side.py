"""Run a search's strategies side by side, each on a database connection of its own.

A fused search waits on two HNSW scans (image and description vectors) that do not depend on
each other; run one after the other, a search costs their sum, run side by side about the
slower one (psycopg releases the GIL while Postgres works). Each of the few worker threads
keeps its own connection (Django's connections are per thread), so there is no connect per
search; the threads start on first use, after a web server's fork.

Inside a caller's transaction the strategies run in the calling thread, one after the
other: another connection could not see that transaction's rows (a test's, an import's).
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any, TypeVar

from django.db import connection, connections

logger = logging.getLogger("swatch.search")

T = TypeVar("T")
_STOP = None
_lock = threading.Lock()
_workers: list[threading.Thread] = []
_tasks: queue.SimpleQueue = queue.SimpleQueue()


def _close_obsolete_connections() -> None:
    # What Django does around each request, for a thread that serves no requests.
    for conn in connections.all(initialized_only=True):
        conn.close_if_unusable_or_obsolete()


def _work() -> None:
    while True:
        item = _tasks.get()
        if item is _STOP:
            connections.close_all()
            return
        run, task, future = item
        if not future.set_running_or_notify_cancel():
            continue
        try:
            _close_obsolete_connections()
            future.set_result(run(task))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, which re-raises it
            future.set_exception(exc)


def _ensure_workers(count: int) -> None:
    with _lock:
        _workers[:] = [w for w in _workers if w.is_alive()]
        while len(_workers) < count:
            worker = threading.Thread(
                target=_work, name=f"swatch-strategy-{len(_workers)}", daemon=True
            )
            worker.start()
            _workers.append(worker)


def side_by_side(tasks: Mapping[str, Callable[[], T]], *, workers: int) -> dict[str, T]:
    """Each task's result by name. The first task runs in the calling thread, the others on
    up to `workers` worker threads; all in the calling thread when `workers` is 0, when there
    is a single task, or inside a transaction."""
    names = list(tasks)
    if workers <= 0 or len(names) < 2 or connection.in_atomic_block:
        return {name: tasks[name]() for name in names}
    _ensure_workers(min(workers, len(names) - 1))
    futures: dict[str, Future] = {}
    for name in names[1:]:
        future: Future = Future()
        # The worker runs the task in the caller's context: the same search, same database.
        _tasks.put((contextvars.copy_context().run, tasks[name], future))
        futures[name] = future
    results: dict[str, Any] = {names[0]: tasks[names[0]]()}
    for name, future in futures.items():
        results[name] = future.result()
    return results


def side_by_side_submit(task: Callable[[], T]) -> Future:
    """Run `task` on a worker thread (on its connection) without waiting for it."""
    _ensure_workers(1)
    future: Future = Future()
    _tasks.put((contextvars.copy_context().run, task, future))
    return future


def side_by_side_close() -> None:
    """Stop the worker threads and close their connections (a test database cannot be
    dropped while they hold it open); the next search starts them again."""
    with _lock:
        workers = [w for w in _workers if w.is_alive()]
        _workers.clear()
    for _ in workers:
        _tasks.put(_STOP)
    for worker in workers:
        worker.join(timeout=10)
