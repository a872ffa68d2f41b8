"""The search's worker threads: a standard `ThreadPoolExecutor`, made on first use (after a
web server's fork), whose tasks run in their submitter's context (the request id in log
lines, the search's database) and, like Django around a request, close their thread's
connections that became unusable or too old before they start. Each thread keeps its own
connection between tasks, so a task needs no connect.

Used for the strategies side by side (`search.side_by_side`), the writes nobody waits for
(`search.background`) and the query-image refinement (`search.refinement`).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from django.db import connections

T = TypeVar("T")
CLOSE_TIMEOUT = 10.0


def _close_obsolete_connections() -> None:
    for conn in connections.all(initialized_only=True):
        conn.close_if_unusable_or_obsolete()


class WorkerPool:
    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._size = 0
        self._threads: set[int] = set()  # those that ran a task: they may hold a connection

    def _run(self, task: Callable[[], T]) -> T:
        self._threads.add(threading.get_ident())
        _close_obsolete_connections()
        return task()

    def _ready(self, workers: int) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None or self._size < workers:
                self._shutdown()
                self._size = max(1, workers)
                self._executor = ThreadPoolExecutor(self._size, thread_name_prefix=self.name)
            return self._executor

    def submit(self, task: Callable[[], T], *, workers: int = 1) -> Future:
        """Run `task` on one of (at least) `workers` threads, in the caller's context."""
        context = contextvars.copy_context()
        return self._ready(workers).submit(context.run, self._run, task)

    def _shutdown(self) -> None:
        """Close every thread's connections (a test database cannot be dropped while they
        are open; only its own thread may close a connection): one task each, held at a
        barrier until all have closed, so no thread takes two. Then end the threads."""
        executor, threads = self._executor, len(self._threads)
        self._executor, self._size, self._threads = None, 0, set()
        if executor is None:
            return
        if threads:
            barrier = threading.Barrier(threads, timeout=CLOSE_TIMEOUT)

            def close() -> None:
                connections.close_all()
                barrier.wait()

            for _ in range(threads):
                executor.submit(close)
        executor.shutdown(wait=True)

    def close(self) -> None:
        """Stop the threads and close their connections; the next task starts them again."""
        with self._lock:
            self._shutdown()
