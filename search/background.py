"""Work a search answer need not wait for, done on one background thread of the process:
writing the answer into the result cache (a cache write that lands a millisecond later costs
nothing but, at worst, one miss; waiting for it costs every search a round trip).

Only for writes that touch no database connection (Redis): a thread of its own would hold
one, and a test's transaction would not be visible to it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from search.side_by_side import gil_switch_shortened

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
            gil_switch_shortened()
            _worker = threading.Thread(target=_work, name="swatch-background", daemon=True)
            _worker.start()
    _tasks.put(task)


def background_wait() -> None:
    """Until everything handed over so far is done (tests; the benchmark's cleanup)."""
    _tasks.join()
