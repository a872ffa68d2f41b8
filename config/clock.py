"""The clock of rate limits and usage alerts. Tests move it without sleeping, across server
processes too: with SWATCH_ENV=test and `SWATCH_TEST_CLOCK_FILE` naming a file that holds a
Unix time, that time is now (anywhere else, and without the file, it is the real time)."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings


def clock_now() -> float:
    path = getattr(settings, "SWATCH_TEST_CLOCK_FILE", "")
    if path and getattr(settings, "ENVIRONMENT", "") == "test":
        try:
            return float(Path(path).read_text().strip())
        except (OSError, ValueError):
            pass
    return time.time()


def clock_set(path: str | Path, moment: float) -> None:
    """Tests: the time every process reading `path` sees from now on."""
    Path(path).write_text(repr(float(moment)))
