"""Who is asking: background work waits for the budget, interactive work falls back at once.

A context variable, so it follows the work into the threads that copy the context (the
pipeline's, `analysis.compute.run`); the default is interactive — nothing a person waits for
is ever made to wait.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

BACKGROUND = "background"
INTERACTIVE = "interactive"

_mode: contextvars.ContextVar[str] = contextvars.ContextVar("swatch_call_mode", default=INTERACTIVE)


def call_mode() -> str:
    return _mode.get()


@contextmanager
def background_work() -> Iterator[None]:
    """Model calls inside the block are background work: over a limit they are deferred."""
    token = _mode.set(BACKGROUND)
    try:
        yield
    finally:
        _mode.reset(token)
