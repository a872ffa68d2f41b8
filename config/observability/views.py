"""`GET /metrics` (Prometheus text format, guarded) and `GET /readyz`."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from config.observability.access import metrics_access
from config.observability.collectors import SharedStateCollector
from config.observability.readiness import readiness


class _ThisProcess(Collector):
    """The default registry's series (this process's counters, process and GC figures)."""

    def collect(self):
        return REGISTRY.collect()


def metrics_registry() -> CollectorRegistry:
    """A registry for one scrape: every process's counters (multiprocess mode, summed from the
    shared folder) or this process's, plus the shared state read now."""
    registry = CollectorRegistry(auto_describe=False)
    folder = settings.SWATCH_METRICS["MULTIPROCESS_DIR"]
    if folder:
        MultiProcessCollector(registry, path=folder)
    else:
        registry.register(_ThisProcess())
    registry.register(SharedStateCollector())
    return registry


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    refusal = metrics_access(request)
    if refusal is not None:
        response = JsonResponse(
            {
                "error": {
                    "code": refusal,
                    "message": "The metrics need the bearer token (SWATCH_METRICS_TOKEN) or "
                    "an allowed address (SWATCH_METRICS_ALLOWED_IPS).",
                    "field": None,
                }
            },
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    report = readiness()
    body = {"status": "ready" if report["ready"] else "not_ready", **report}
    response = JsonResponse(body, status=200 if report["ready"] else 503)
    if not report["ready"]:
        response["Retry-After"] = "10"
    return response
