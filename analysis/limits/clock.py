"""The limits' clock: wall time, or the one a test controls (never a sleep)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_clocks: list[Callable[[], float]] = []


def limits_now() -> float:
    """Seconds since the epoch by the limits' clock."""
    return _clocks[-1]() if _clocks else time.time()


@contextmanager
def limits_clock(clock: Callable[[], float]) -> Iterator[Callable[[], float]]:
    """Count limits by `clock` inside the block (tests)."""
    _clocks.append(clock)
    try:
        yield clock
    finally:
        _clocks.remove(clock)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += float(seconds)

    def set(self, when: float) -> None:
        self.now = max(self.now, float(when))
