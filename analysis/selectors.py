"""Reads of the analysis app."""

from __future__ import annotations


def provider_statuses() -> list[dict]:
    """Each configured model provider and whether it is available (its circuit state), in
    fallback order per capability. Builds no provider and loads no model."""
    from django.core.exceptions import ImproperlyConfigured

    from analysis.providers import factory
    from analysis.resilience.breaker import CircuitState

    chains = (
        ("describe", factory.get_describer),
        ("embed_image", factory.get_image_embedder),
        ("embed_text", factory.get_text_embedder),
    )
    statuses: list[dict] = []
    for capability, get_chain in chains:
        try:
            links = get_chain().links
        except ImproperlyConfigured as exc:
            statuses.append(
                {
                    "capability": capability,
                    "provider": None,
                    "model": None,
                    "available": False,
                    "circuit": "misconfigured",
                    "error": str(exc),
                }
            )
            continue
        for link in links:
            try:
                circuit = link.breaker.state().value
            except Exception:  # noqa: BLE001 - health must answer even when the cache does not
                circuit = "unknown"
            statuses.append(
                {
                    "capability": capability,
                    "provider": link.name,
                    "model": link.known_model or None,
                    "available": circuit != CircuitState.OPEN.value,
                    "circuit": circuit,
                }
            )
    return statuses


def analysis_failed_list(*, limit: int = 500):
    """The dead letters: analyses that failed for good, newest first, with their reason."""
    from analysis.models import AnalysisStatus, VisualAnalysis

    return (
        VisualAnalysis.objects.filter(status=AnalysisStatus.FAILED)
        .select_related("image__material", "image__catalog")
        .order_by("-finished_at", "-pk")[:limit]
    )


def analysis_backlog() -> tuple[int, float]:
    """Analyses waiting to run (pending) and the age in seconds of the oldest (0 if none)."""
    from django.db.models import Count, Min
    from django.utils import timezone

    from analysis.models import AnalysisStatus, VisualAnalysis

    row = VisualAnalysis.objects.filter(status=AnalysisStatus.PENDING).aggregate(
        count=Count("id"), oldest=Min("updated_at")
    )
    oldest = row["oldest"]
    age = max(0.0, (timezone.now() - oldest).total_seconds()) if oldest else 0.0
    return row["count"], age


def worker_heartbeat_age() -> float | None:
    """Seconds since the newest heartbeat of any task worker; None when none ever beat."""
    from django.utils import timezone

    from analysis.models import WorkerHeartbeat

    beat = WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()
    return None if beat is None else max(0.0, (timezone.now() - beat).total_seconds())
