"""A value made on first use, once per process, by whichever thread asks first while the
others wait: model weights, ONNX sessions, tokenizers, classifiers. Loading them costs
seconds and memory that a process that never needs them should not pay (and a web server
should pay after its fork, not before). A make that raises is not remembered: the next
call tries again (the weights may have been exported since)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._made = False
        self._value: T | None = None

    def get(self) -> T:
        if not self._made:  # the lock only until it is made
            with self._lock:
                if not self._made:
                    self._value = self._make()
                    self._made = True
        return self._value  # type: ignore[return-value]

    @property
    def made(self) -> bool:
        return self._made
