"""`GET /healthz`: is the database there, which pgvector, how deep is the queue."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


def database_health() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('server_version')")
            server_version = cursor.fetchone()[0]
            cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            row = cursor.fetchone()
    except DatabaseError as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {
        "ok": row is not None,
        "vendor": connection.vendor,
        "server_version": server_version,
        "pgvector_version": row[0] if row else None,
    }


def queue_health() -> dict:
    from django_q.brokers import get_broker

    try:
        broker = get_broker()
        depth = broker.queue_size()
    except Exception as exc:  # noqa: BLE001 - any broker failure is reported, not raised
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "broker": broker.__class__.__name__, "depth": depth}


def providers_health() -> list[dict]:
    from analysis.selectors import provider_statuses

    return provider_statuses()


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = database_health()
    queue = queue_health() if database["ok"] else {"ok": False, "error": "database unavailable"}
    providers = providers_health() if database["ok"] else []
    ok = database["ok"] and queue["ok"]
    return JsonResponse(
        {
            "status": "ok" if ok else "degraded",
            "database": database,
            "queue": queue,
            "providers": providers,
        },
        status=200 if ok else 503,
    )
