"""What the review page adds to the curation services: restoring a replaced description from the
audit trail, undoing a rejection, who else has an item open, why an item is queued, the type
classifier's runner-up types, and the queue's counts for the admin home."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from analysis.curation.corrections import CorrectionResult, analysis_correct
from analysis.curation.revision import descriptions_revision_bump
from analysis.curation.selectors import review_queue, review_threshold
from analysis.curation.services import (
    CurationError,
    User,
    actor_of,
    analysis_locked,
    audit_entry_create,
)
from analysis.description import CATEGORY_OF_TYPE
from analysis.models import (
    AnalysisAuditEntry,
    AnalysisFlag,
    AnalysisStatus,
    AuditAction,
    Embedding,
    EmbeddingKind,
    VisualAnalysis,
)

PRESENCE_SECONDS = 600  # someone who opened an item this recently is "on it"
RUNNER_UPS = 3


def restorable_description(entry: AnalysisAuditEntry) -> dict | None:
    """The description an audit entry replaced, when it holds one (a re-run overwriting a
    curated description, a correction)."""
    old = (entry.changes or {}).get("description", [None])[0]
    return old if isinstance(old, dict) and old.get("material_type") else None


def analysis_restore_from_audit(
    *, analysis: VisualAnalysis, entry_id: int, actor: User, version: str | None = None
) -> CorrectionResult:
    """Put back the description an audit entry replaced, as a curated correction (validated,
    embedded, audited as a restore)."""
    entry = AnalysisAuditEntry.objects.filter(pk=entry_id, analysis=analysis).first()
    description = restorable_description(entry) if entry else None
    if description is None:
        raise CurationError("nothing_to_restore", "That audit entry holds no description.")
    return analysis_correct(
        analysis=analysis,
        actor=actor,
        description=description,
        note=f"restored the description replaced on {entry.created_at:%Y-%m-%d %H:%M} "
        f"(audit #{entry.pk})",
        version=version,
        action=AuditAction.RESTORE,
    )


def analysis_reject_undo(*, analysis: VisualAnalysis, actor: User) -> VisualAnalysis:
    """Back to the status the last rejection replaced (its audit entry says which)."""
    with transaction.atomic():
        row = analysis_locked(analysis=analysis)
        entry = row.audit_entries.filter(action=AuditAction.REJECT).order_by("-pk").first()
        if row.status != AnalysisStatus.REJECTED or entry is None:
            raise CurationError("not_rejected", f"analysis #{row.pk} is not rejected.")
        before = (entry.changes.get("status") or [AnalysisStatus.NEEDS_REVIEW])[0]
        row.status = before
        row.reviewed_by = actor_of(actor)
        row.reviewed_at = timezone.now()
        row.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
        audit_entry_create(
            analysis=row,
            actor=actor,
            action=AuditAction.UNDO,
            changes={"status": [AnalysisStatus.REJECTED, before]},
            note=f"undid the rejection of audit #{entry.pk}",
        )
        descriptions_revision_bump()
    return row


def _presence_key(analysis_id: int) -> str:
    return f"curation:viewers:{analysis_id}"


def review_presence_mark(*, analysis: VisualAnalysis, user) -> list[str]:
    """Note that `user` opened this item; the others who did lately (their names)."""
    now = timezone.now().timestamp()
    viewers = cache.get(_presence_key(analysis.pk)) or {}
    name = user.get_username()
    others = [
        other for other, seen in viewers.items() if other != name and now - seen < PRESENCE_SECONDS
    ]
    viewers = {k: v for k, v in viewers.items() if now - v < PRESENCE_SECONDS}
    viewers[name] = now
    cache.set(_presence_key(analysis.pk), viewers, PRESENCE_SECONDS)
    return sorted(others)


@dataclass(frozen=True)
class QueueReason:
    code: str
    text: str


def queue_reasons(*, analysis: VisualAnalysis) -> list[QueueReason]:
    """Why this item is in the queue, in the curator's words."""
    reasons = []
    flags = AnalysisFlag.objects.filter(analysis=analysis, resolved_at__isnull=True)
    for flag in flags:
        reasons.append(QueueReason("flag", f"a user flagged it: “{flag.reason}”"))
    if analysis.status == AnalysisStatus.FAILED:
        reasons.append(QueueReason("failed", f"the analysis failed: {analysis.error_reason}"))
    cut = review_threshold()
    if analysis.confidence is not None and analysis.confidence < cut:
        reasons.append(
            QueueReason(
                "low_confidence",
                f"low confidence: {analysis.confidence:.0%} overall (under {cut:.0%})",
            )
        )
    category = (analysis.image.material.category or "").strip().lower()
    expected = CATEGORY_OF_TYPE.get(analysis.material_type)
    if category and expected and category not in (expected, analysis.material_type):
        reasons.append(
            QueueReason(
                "category",
                f"the catalog calls it “{category}”, the analysis says {analysis.material_type} "
                f"({expected})",
            )
        )
    if analysis.status == AnalysisStatus.NEEDS_REVIEW and not reasons:
        reasons.append(QueueReason("needs_review", "the pipeline's quality check asked for it"))
    return reasons


def type_runner_ups(*, analysis: VisualAnalysis) -> list[tuple[str, float]]:
    """The offline type classifier's next guesses for this image (from its stored image
    embedding), as one-click choices; none when no embedding of its model is stored."""
    from analysis.offline.classifier import ClassifierError, TypeClassifier
    from analysis.offline.weights import TYPE_CLASSIFIER, weights_path

    try:
        classifier = TypeClassifier.load(weights_path(TYPE_CLASSIFIER))
    except (ClassifierError, OSError):
        return []
    embedding = Embedding.objects.filter(
        image_id=analysis.image_id, kind=EmbeddingKind.IMAGE, model=classifier.embedder_model
    ).first()
    if embedding is None or len(embedding.vector) != classifier.dimensions:
        return []
    probabilities = classifier.predict_proba(np.asarray(embedding.vector, dtype=np.float32)[None])
    ranked = sorted(zip(classifier.classes, probabilities[0], strict=True), key=lambda c: -c[1])
    return [
        (kind, float(p))
        for kind, p in ranked
        if kind != analysis.material_type and kind in CATEGORY_OF_TYPE
    ][:RUNNER_UPS]


def review_queue_counts() -> dict[str, int]:
    """The queue's size and what makes it up, for the admin home."""
    return review_queue().aggregate(
        waiting=Count("pk"),
        flagged=Count("pk", filter=Q(has_open_flag=True)),
        failed=Count("pk", filter=Q(status=AnalysisStatus.FAILED)),
    )
