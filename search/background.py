"""Work a search answer need not wait for, done on one background thread of the process:
writing the answer into the result cache (a cache write that lands a millisecond later costs
nothing but, at worst, one miss; waiting for it costs every search a round trip).

Writes to Redis go to this module's own thread; writes to the database cache (no Redis) to a
strategy worker of `search.side_by_side`, which holds a connection of its own
(`later_on_a_connection`).
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import wait as futures_wait
from functools import partial

from django.db import connection

from search.side_by_side import side_by_side_submit

logger = logging.getLogger("swatch.search")

_tasks: queue.Queue = queue.Queue()
_lock = threading.Lock()
_worker: threading.Thread | None = None


def _work() -> None:
    while True:
        task = _tasks.get()
        try:
            task()
        except Exception:  # noqa: BLE001 - a lost cache write is a later cache miss, no more
            logger.warning("a background cache write failed", exc_info=True)
        finally:
            _tasks.task_done()


def later(task: Callable[[], object]) -> None:
    """Run `task` soon, on the background thread."""
    global _worker
    with _lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="swatch-background", daemon=True)
            _worker.start()
    _tasks.put(partial(contextvars.copy_context().run, task))  # logs keep the request id


_pending: set[Future] = set()


def _done(future: Future) -> None:
    _pending.discard(future)
    if future.exception() is not None:
        logger.warning("a background cache write failed", exc_info=future.exception())


def later_on_a_connection(task: Callable[[], object]) -> None:
    """Run `task`, which writes to the database, soon on a strategy worker's own connection
    (`search.side_by_side`); at once inside a caller's transaction, which another connection
    could not see."""
    if connection.in_atomic_block:
        task()
        return
    future = side_by_side_submit(partial(contextvars.copy_context().run, task))
    _pending.add(future)
    future.add_done_callback(_done)


def background_wait() -> None:
    """Until everything handed over so far is done (tests; the benchmark's cleanup)."""
    _tasks.join()
    futures_wait(list(_pending))
