"""Work a search answer need not wait for, done on a background thread of the process
(`search.threads`): writing the answer into the result cache (a write that lands a
millisecond later costs nothing but, at worst, one miss; waiting for it costs every search a
round trip), recording the search (`search.feedback`). The thread keeps a database
connection of its own for what goes to the database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import wait as futures_wait

from django.db import connection

from search.threads import WorkerPool

logger = logging.getLogger("swatch.search")

_pool = WorkerPool("swatch-background")
_pending: set[Future] = set()
_pending_lock = threading.Lock()


def _done(future: Future) -> None:
    with _pending_lock:
        _pending.discard(future)
    if future.exception() is not None:  # a lost write is a later cache miss, no more
        logger.warning("a background write failed", exc_info=future.exception())


def later(task: Callable[[], object], *, database: bool = False) -> None:
    """Run `task` soon on the background thread. A task that writes to the database
    (`database`) runs at once inside a caller's transaction, which the background thread's
    connection could not see (nor roll back with)."""
    if database and connection.in_atomic_block:
        task()
        return
    future = _pool.submit(task)
    with _pending_lock:
        _pending.add(future)
    future.add_done_callback(_done)


def later_on_a_connection(task: Callable[[], object]) -> None:
    """`later` for a task that writes to the database."""
    later(task, database=True)


def background_wait() -> None:
    """Until everything handed over so far is done (tests; the benchmark's cleanup)."""
    with _pending_lock:
        pending = list(_pending)
    futures_wait(pending)


def background_close() -> None:
    """Stop the thread and close its connection (before a test database is dropped)."""
    background_wait()
    _pool.close()
