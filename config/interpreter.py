"""How a server process configures the Python interpreter at start-up (never library code).

A search thread whose query came back waits for the GIL; under CPython's default switch
interval (5 ms) another thread busy in Python (parsing rows, scoring, pickling) holds it that
long. Measured on bench_search: p95 of a fused search 22 → 17 ms at 0.5 ms. Set once by what
starts a server: gunicorn's worker (`config/gunicorn.py`, `post_worker_init`) and
`bench_search`, which measures the same searches in its own process.
"""

from __future__ import annotations

import sys

SWITCH_INTERVAL = 0.0005


def gil_switch_shortened() -> None:
    if sys.getswitchinterval() > SWITCH_INTERVAL:
        sys.setswitchinterval(SWITCH_INTERVAL)
