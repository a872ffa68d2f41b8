"""Reads for curation: the review queue and its order, the audit trail, curated labels."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, F, FloatField, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from analysis.models import (
    AnalysisAuditEntry,
    AnalysisFlag,
    AnalysisSource,
    AnalysisStatus,
    VisualAnalysis,
)

ORDER_LEAST_CONFIDENT = "least_confident"
ORDER_OLDEST = "oldest"
QUEUE_ORDERS = {
    # No confidence (a failed analysis) counts as 0: nothing is less certain.
    ORDER_LEAST_CONFIDENT: ("queue_confidence", "created_at", "pk"),
    ORDER_OLDEST: ("created_at", "pk"),
}


@dataclass(frozen=True)
class ConfidenceBand:
    key: str
    label: str
    low: float | None  # inclusive; None with high None: no confidence at all
    high: float | None  # exclusive


def review_threshold() -> float:
    """Analyses under this overall confidence need a person (`SWATCH_REVIEW_CONFIDENCE`)."""
    return float(settings.SWATCH["REVIEW_CONFIDENCE"])


def confidence_bands(*, threshold: float | None = None) -> list[ConfidenceBand]:
    cut = review_threshold() if threshold is None else threshold
    edges = [edge for edge in (0.3, 0.5) if edge < cut]
    bands = [ConfidenceBand("none", "none (failed)", None, None)]
    low = 0.0
    for edge in [*edges, cut]:
        bands.append(ConfidenceBand(f"{low:g}-{edge:g}", f"{low:g} – {edge:g}", low, edge))
        low = edge
    bands.append(ConfidenceBand(f"{cut:g}-", f"≥ {cut:g}", cut, None))
    return bands


def confidence_band_q(*, band: ConfidenceBand) -> Q:
    if band.low is None and band.high is None:
        return Q(confidence__isnull=True)
    q = Q(confidence__gte=band.low)
    if band.high is not None:
        q &= Q(confidence__lt=band.high)
    return q


def _open_flags() -> Exists:
    return Exists(AnalysisFlag.objects.filter(analysis=OuterRef("pk"), resolved_at__isnull=True))


def review_queue_q(*, threshold: float | None = None) -> Q:
    """What needs a person: flagged by a user, failed, marked for review, or done by a model
    with a confidence under the threshold. Pending and running ones are not ready yet."""
    cut = review_threshold() if threshold is None else threshold
    unsure = Q(status=AnalysisStatus.COMPLETED, confidence__lt=cut) & ~Q(
        source=AnalysisSource.CURATED
    )
    return (
        Q(has_open_flag=True)
        | Q(status__in=[AnalysisStatus.NEEDS_REVIEW, AnalysisStatus.FAILED])
        | unsure
    ) & ~Q(status__in=[AnalysisStatus.PENDING, AnalysisStatus.RUNNING])


def analysis_annotated(queryset: QuerySet[VisualAnalysis] | None = None) -> QuerySet:
    """Analyses with `queue_confidence` (0 when none) and `has_open_flag`."""
    base = queryset if queryset is not None else VisualAnalysis.objects.all()
    return base.annotate(
        queue_confidence=Coalesce(F("confidence"), Value(0.0), output_field=FloatField()),
        has_open_flag=_open_flags(),
    )


def review_queue(
    *,
    threshold: float | None = None,
    order: str = ORDER_LEAST_CONFIDENT,
    queryset: QuerySet[VisualAnalysis] | None = None,
) -> QuerySet[VisualAnalysis]:
    """The review queue, least confident (or oldest) first; ties oldest first."""
    if order not in QUEUE_ORDERS:
        raise ValueError(f"unknown queue order {order!r}; one of {', '.join(QUEUE_ORDERS)}")
    return (
        analysis_annotated(queryset)
        .filter(review_queue_q(threshold=threshold))
        .select_related("image__material", "image__catalog")
        .order_by(*QUEUE_ORDERS[order])
    )


def review_queue_next(
    *, after: VisualAnalysis | None, order: str = ORDER_LEAST_CONFIDENT
) -> VisualAnalysis | None:
    """The item after `after` in queue order, wrapping round to the head; never `after` itself.

    `after` may have left the queue already (just approved): its sort key still places it.
    """
    queue = review_queue(order=order)
    if after is None:
        return queue.first()
    queue = queue.exclude(pk=after.pk)
    confidence = after.confidence if after.confidence is not None else 0.0
    keys = {
        "queue_confidence": confidence,
        "created_at": after.created_at,
        "pk": after.pk,
    }
    fields = QUEUE_ORDERS[order]
    later = Q()
    for depth, name in enumerate(fields):
        step = Q(**{f"{name}__gt": keys[name]})
        for previous in fields[:depth]:
            step &= Q(**{previous: keys[previous]})
        later |= step
    return queue.filter(later).first() or queue.first()


def review_queue_position(
    *, analysis: VisualAnalysis, order: str = ORDER_LEAST_CONFIDENT
) -> tuple[int | None, int]:
    """(1-based position of `analysis` in the queue or None, queue length)."""
    ids = list(review_queue(order=order).values_list("pk", flat=True))
    position = ids.index(analysis.pk) + 1 if analysis.pk in ids else None
    return position, len(ids)


def audit_entries(*, analysis: VisualAnalysis | None = None) -> QuerySet[AnalysisAuditEntry]:
    entries = AnalysisAuditEntry.objects.select_related("actor")
    if analysis is not None:
        entries = entries.filter(analysis=analysis)
    return entries.order_by("-created_at", "-pk")


def analysis_open_flags(*, analysis: VisualAnalysis) -> QuerySet[AnalysisFlag]:
    return AnalysisFlag.objects.filter(analysis=analysis, resolved_at__isnull=True).order_by(
        "created_at"
    )


def curated_analyses(*, catalog_name: str | None = None) -> QuerySet[VisualAnalysis]:
    """Analyses a person made or approved, the labels worth keeping across model changes."""
    rows = VisualAnalysis.objects.filter(
        Q(source=AnalysisSource.CURATED) | Q(status=AnalysisStatus.APPROVED)
    ).exclude(description={})
    if catalog_name is not None:
        rows = rows.filter(image__catalog__name=catalog_name)
    return rows.select_related("image__material", "image__catalog", "reviewed_by").order_by(
        "image__catalog__name", "image__material__name", "pk"
    )
