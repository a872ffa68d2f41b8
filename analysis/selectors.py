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
