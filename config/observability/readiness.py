"""`/readyz`: should this node get traffic? Not when the database or pgvector is missing, a
migration is not applied yet (new code on an old schema), or no task worker has shown a sign
of life for SWATCH_READY_HEARTBEAT_MAX_AGE seconds. `/healthz` stays the liveness check."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection

_MIGRATIONS_OK_FOR = 60.0  # seconds a "nothing to apply" answer is trusted in one process
_migrations_ok_at: float | None = None


def database_check() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            row = cursor.fetchone()
    except DatabaseError as exc:
        return {"database": {"ok": False, "error": exc.__class__.__name__}}
    pgvector = {"ok": row is not None, "version": row[0] if row else None}
    if row is None:
        pgvector["error"] = "the vector extension is not installed"
    return {"database": {"ok": True}, "pgvector": pgvector}


def migrations_check() -> dict[str, Any]:
    global _migrations_ok_at
    if _migrations_ok_at is not None and time.monotonic() - _migrations_ok_at < _MIGRATIONS_OK_FOR:
        return {"ok": True, "pending": 0}
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
        return {"ok": False, "pending": len(names), "first": names[:5]}
    _migrations_ok_at = time.monotonic()
    return {"ok": True, "pending": 0}


def worker_check() -> dict[str, Any]:
    from analysis.selectors import worker_heartbeat_age

    limit = settings.SWATCH_READY["HEARTBEAT_MAX_AGE"]
    age = worker_heartbeat_age()
    if age is None:
        return {"ok": False, "error": "no task worker has ever reported", "max_age": limit}
    return {"ok": age <= limit, "heartbeat_age_seconds": round(age, 1), "max_age": limit}


def readiness() -> dict[str, Any]:
    """Every check's outcome, and `ready` when all passed. Stops at the database: without it
    nothing else can be asked."""
    checks = database_check()
    if checks["database"]["ok"]:
        try:
            checks["migrations"] = migrations_check()
            checks["worker"] = worker_check()
        except DatabaseError as exc:
            checks["database"] = {"ok": False, "error": exc.__class__.__name__}
    failing = sorted(name for name, check in checks.items() if not check["ok"])
    return {"ready": not failing, "failing": failing, "checks": checks}
