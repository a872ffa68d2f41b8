"""A cap on the memory that decoded images take in one process at a time.

A 40-megapixel image is about 160 MB once decoded (RGBA); a few at once would take a web
worker's memory past what the machine has. Each decode reserves its size (width × height × 4
bytes, from the header, before a byte is decoded) from a budget of `SWATCH_DECODE_MEMORY_MB`
per process, and waits while the budget is taken, so concurrent uploads queue for the decoder
instead of piling up in memory. An image larger than the whole budget waits until it has the
budget alone. After a large decode the process gives freed heap memory back to the system
(glibc's `malloc_trim`, config/memory.py), so a worker does not keep the peak for ever.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from config.memory import memory_release

BYTES_PER_PIXEL = 4  # the widest mode decoded (RGBA) sets the reservation
TRIM_ABOVE_BYTES = 32 * 2**20


class DecodeBudget:
    def __init__(self, capacity_bytes: int) -> None:
        self.capacity = max(1, capacity_bytes)
        self.used = 0
        self._changed = threading.Condition()

    @contextmanager
    def reserved(self, size: int) -> Iterator[None]:
        size = min(max(0, size), self.capacity)  # alone, an oversized image takes it all
        with self._changed:
            self._changed.wait_for(lambda: self.used + size <= self.capacity)
            self.used += size
        try:
            yield
        finally:
            with self._changed:
                self.used -= size
                self._changed.notify_all()
            if size >= TRIM_ABOVE_BYTES:
                memory_release()


_budgets: dict[int, DecodeBudget] = {}
_lock = threading.Lock()


def decode_budget(capacity_bytes: int) -> DecodeBudget:
    """The process's budget of that capacity (one per configured size)."""
    with _lock:
        if capacity_bytes not in _budgets:
            _budgets[capacity_bytes] = DecodeBudget(capacity_bytes)
        return _budgets[capacity_bytes]
