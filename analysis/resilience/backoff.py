"""How long to wait before trying a model call again.

Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): retry n waits a uniform
random time in [0, min(cap, base·2ⁿ)], so that many workers hit by one outage do not come back
in lock-step. When the server states the wait itself (`Retry-After`, Together's
`x-ratelimit-reset`), that wait wins.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

# A value this large is an absolute Unix time, not a number of seconds.
_EPOCH_THRESHOLD = 1_000_000_000


def backoff_delay(*, attempt: int, base: float, cap: float) -> float:
    """Seconds to wait before retry number `attempt` (1 = the first retry)."""
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    return random.uniform(0.0, max(ceiling, 0.0))  # noqa: S311 - jitter, not cryptography


def _seconds(value: str, *, now: float) -> float | None:
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(when.timestamp() - now, 0.0)
    if number != number or number < 0:  # NaN or negative: ignore the header
        return None
    if number >= _EPOCH_THRESHOLD:
        return max(number - now, 0.0)
    return number


def server_stated_delay(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """The wait a 429/503 answer asks for, in seconds, or None when it names none.

    `Retry-After` is seconds or an HTTP date (RFC 9110); `x-ratelimit-reset` (Together AI,
    OpenAI-compatible servers) is seconds until the limit resets, or a Unix time.
    """
    now = time.time() if now is None else now
    for name in ("retry-after", "x-ratelimit-reset", "x-ratelimit-reset-requests"):
        raw = headers.get(name)
        if raw:
            seconds = _seconds(raw.rstrip("s") if raw.endswith("s") else raw, now=now)
            if seconds is not None:
                return seconds
    return None
