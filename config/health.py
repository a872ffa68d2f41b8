"""`GET /healthz`: is the database there, which pgvector, how deep is the queue, is the shared
cache reachable, where are rate limits counted, and is search relevance calibrated for the
configured models (else: on its conservative fallback).

`status` is `ok`, `degraded` (the node serves searches, but something it shares with others is
missing: the cache or the broker is unreachable, or rate limits are counted per process) with
200, or `down` with 503 when the database does not answer (the embedded one is started again
meanwhile: `restarting`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from config.errors.outages import CACHE_ERRORS
from config.store import store


def database_health() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('server_version')")
            server_version = cursor.fetchone()[0]
            cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            row = cursor.fetchone()
    except DatabaseError as exc:
        from config.errors.outages import DATABASE
        from config.errors.recovery import outage_noticed

        outage_noticed(DATABASE)
        return {
            "ok": False,
            "error": exc.__class__.__name__,
            "embedded": bool(getattr(settings, "EMBEDDED_DATABASE", False)),
            "restarting": bool(getattr(settings, "EMBEDDED_DATABASE", False)),
        }
    from config.errors.recovery import embedded_restarted_seconds_ago

    health = {
        "ok": row is not None,
        "vendor": connection.vendor,
        "server_version": server_version,
        "pgvector_version": row[0] if row else None,
        "embedded": bool(getattr(settings, "EMBEDDED_DATABASE", False)),
    }
    restarted = embedded_restarted_seconds_ago()
    if restarted is not None:  # this process found it stopped and started it again
        health["restarted_seconds_ago"] = restarted
    return health


def queue_health() -> dict:
    from django_q.brokers import get_broker

    try:
        broker = get_broker()
        depth = broker.queue_size()
    except Exception as exc:  # noqa: BLE001 - any broker failure is reported, not raised
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "broker": broker.__class__.__name__, "depth": depth}


def cache_health() -> dict:
    """The shared store (config/store): Redis, or the database checked above."""
    shared = store()
    if shared.uses_database:
        return {"ok": True, "backend": shared.name}
    try:
        shared.ping()
    except CACHE_ERRORS as exc:
        return {"ok": False, "backend": shared.name, "error": exc.__class__.__name__}
    return {"ok": True, "backend": shared.name}


def ratelimit_health() -> dict:
    from search.ratelimit.windows import ratelimit_status

    return ratelimit_status()


def model_limits_health() -> dict:
    from analysis.curation.budget_view import limits_and_budgets

    return limits_and_budgets()


def providers_health() -> list[dict]:
    from analysis.selectors import provider_statuses

    return provider_statuses()


def relevance_health() -> dict:
    """Is search relevance calibrated for the configured embedding models, or on the
    conservative fallback (search/relevance/calibration.py)?"""
    from search.providers import search_providers
    from search.relevance.calibration import calibration_status

    try:
        providers = search_providers()
    except Exception as exc:  # noqa: BLE001 - a provider that cannot load is reported, not raised
        return {"calibrated": False, "error": exc.__class__.__name__}
    text = providers.text_embedder
    return calibration_status(
        image_model=providers.image_embedder.model, text_model=text.model if text else ""
    )


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = database_health()
    if not database["ok"]:
        return JsonResponse({"status": "down", "database": database}, status=503)
    queue = queue_health()
    shared_cache = cache_health()
    rate_limits = ratelimit_health()
    degraded = not (queue["ok"] and shared_cache["ok"]) or rate_limits["degraded"]
    return JsonResponse(
        {
            "status": "degraded" if degraded else "ok",
            "database": database,
            "queue": queue,
            "cache": shared_cache,
            "rate_limits": rate_limits,
            "providers": providers_health(),
            "relevance": relevance_health(),
            # Each model API's use of its limits, and the money budgets (analysis.limits).
            "model_limits": model_limits_health(),
        },
        status=200,
    )
