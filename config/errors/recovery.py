"""What a process does when it meets an outage: it remembers it (for `/healthz`) and, when
the database is the embedded server and has stopped, starts it again in the background, so
the site recovers by itself (the next request after the restart connects afresh: persistent
connections are health-checked before reuse)."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings

from config.errors.outages import DATABASE, Outage

logger = logging.getLogger("swatch.errors")

# Seconds between two restart attempts of one process (a restart takes about one).
REVIVE_EVERY = 3.0
_noticed: dict[str, float] = {}
_revive_lock = threading.Lock()
_last_revive = 0.0
_revived_at: float | None = None


def outage_noticed(outage: Outage) -> None:
    _noticed[outage.code] = time.time()
    if outage is DATABASE and getattr(settings, "EMBEDDED_DATABASE", False):
        embedded_revive_soon()


def outages_recent(*, within: float = 60.0) -> dict[str, float]:
    """The outages this process met in the last `within` seconds: code → seconds ago."""
    now = time.time()
    return {code: round(now - at, 1) for code, at in _noticed.items() if now - at <= within}


def embedded_restarted_seconds_ago() -> float | None:
    """Seconds since this process last started the embedded database again, if it did."""
    return None if _revived_at is None else round(time.time() - _revived_at, 1)


def _revive() -> None:
    global _revived_at
    from config.database import embedded_server_revive

    try:
        if embedded_server_revive(settings.EMBEDDED_PGDATA):
            _revived_at = time.time()
    except Exception:  # noqa: BLE001 - tried again on the next outage noticed
        logger.exception("could not start the embedded PostgreSQL again")
    finally:
        _revive_lock.release()


def embedded_revive_soon() -> bool:
    """Start the embedded server again in a background thread, unless an attempt is running
    or was made in the last `REVIVE_EVERY` seconds. True when an attempt was started."""
    global _last_revive
    if not _revive_lock.acquire(blocking=False):
        return False
    if time.monotonic() - _last_revive < REVIVE_EVERY:
        _revive_lock.release()
        return False
    _last_revive = time.monotonic()
    threading.Thread(target=_revive, name="swatch-db-revive", daemon=True).start()
    return True
