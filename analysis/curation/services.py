"""Writes of curation: approve, reject, re-run, flag — each with its audit entry — and the
helpers every curation write shares (the error type, the audit entry, the row lock).

Corrections are in `analysis.curation.corrections`, the curator role in
`analysis.curation.curators`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from analysis.curation.revision import descriptions_revision_bump
from analysis.depth import AnalysisOptions, options_words
from analysis.models import (
    AnalysisAuditEntry,
    AnalysisFlag,
    AnalysisStatus,
    AuditAction,
    VisualAnalysis,
)
from analysis.services import analysis_is_curated, analysis_queue_for_images

User = AbstractBaseUser | AnonymousUser | None
CURATED_CONFIDENCE = 1.0
NOT_REVIEWABLE = (AnalysisStatus.PENDING, AnalysisStatus.RUNNING)


class CurationError(Exception):
    """A curation step refused for a reason a curator can act on."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def actor_of(user: User) -> AbstractBaseUser | None:
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def audit_entry_create(
    *,
    analysis: VisualAnalysis,
    actor: User,
    action: str,
    changes: dict[str, list[Any]] | None = None,
    note: str = "",
) -> AnalysisAuditEntry:
    person = actor_of(actor)
    return AnalysisAuditEntry.objects.create(
        analysis=analysis,
        image_sha256=analysis.image.sha256,
        material_name=analysis.image.material.name[:300],
        actor=person,
        actor_name=person.get_username()[:150] if person else "",
        action=action,
        changes=changes or {},
        note=note[:2000],
    )


def flags_resolve(*, analysis: VisualAnalysis) -> int:
    return AnalysisFlag.objects.filter(analysis=analysis, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )


def analysis_version(analysis: VisualAnalysis) -> str:
    """What a review page holds of the row it showed: a save over a newer one is refused."""
    return analysis.updated_at.isoformat() if analysis.updated_at else ""


def analysis_locked(*, analysis: VisualAnalysis, version: str | None = None) -> VisualAnalysis:
    """The row, locked; with `version` (optimistic locking), refused when someone else
    changed it after that version was shown."""
    row = (
        VisualAnalysis.objects.select_for_update(of=("self",))
        .select_related("image__material")
        .get(pk=analysis.pk)
    )
    if version is not None and version != analysis_version(row):
        last = row.audit_entries.order_by("-created_at", "-pk").first()
        who = (last.actor_name or "the pipeline") if last else "someone"
        raise CurationError(
            "stale",
            f"{who} changed analysis #{row.pk} at {row.updated_at:%H:%M:%S} after you opened "
            "it; nothing of yours was saved. Reload the page to see their version.",
        )
    return row


def row_changes(row: VisualAnalysis, **new: Any) -> dict[str, list[Any]]:
    changes = {}
    for field, value in new.items():
        old = getattr(row, field)
        if old != value:
            changes[field] = [old, value]
    return changes


def analysis_approve(
    *, analysis: VisualAnalysis, actor: User, note: str = "", version: str | None = None
) -> VisualAnalysis:
    """Accept the current description as it is: status `approved`, confidence 1.0 (a person
    vouched for it); the source stays who wrote it."""
    with transaction.atomic():
        row = analysis_locked(analysis=analysis, version=version)
        if row.status in NOT_REVIEWABLE or not row.description:
            raise CurationError(
                "not_approvable",
                f"analysis #{row.pk} is {row.get_status_display().lower()} and has no "
                "description to approve; correct it or re-run it.",
            )
        changes = row_changes(row, status=AnalysisStatus.APPROVED, confidence=CURATED_CONFIDENCE)
        row.status = AnalysisStatus.APPROVED
        row.confidence = CURATED_CONFIDENCE
        row.reviewed_by = actor_of(actor)
        row.reviewed_at = timezone.now()
        row.save(update_fields=["status", "confidence", "reviewed_by", "reviewed_at", "updated_at"])
        flags_resolve(analysis=row)
        audit_entry_create(
            analysis=row, actor=actor, action=AuditAction.APPROVE, changes=changes, note=note
        )
        descriptions_revision_bump()
    return row


def analysis_reject(
    *, analysis: VisualAnalysis, actor: User, note: str = "", version: str | None = None
) -> VisualAnalysis:
    """The description is wrong and nobody has a better one yet: status `rejected`. Nothing is
    deleted; a re-run or a correction can follow (or the undo: `analysis_reject_undo`)."""
    with transaction.atomic():
        row = analysis_locked(analysis=analysis, version=version)
        if row.status in NOT_REVIEWABLE:
            raise CurationError(
                "not_rejectable", f"analysis #{row.pk} is {row.status}: wait until it is done."
            )
        changes = row_changes(row, status=AnalysisStatus.REJECTED)
        row.status = AnalysisStatus.REJECTED
        row.reviewed_by = actor_of(actor)
        row.reviewed_at = timezone.now()
        row.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
        flags_resolve(analysis=row)
        audit_entry_create(
            analysis=row, actor=actor, action=AuditAction.REJECT, changes=changes, note=note
        )
        descriptions_revision_bump()
    return row


def analysis_flag(*, analysis: VisualAnalysis, actor: User, reason: str) -> AnalysisFlag:
    """A user says this analysis looks wrong: it enters the review queue until a curator acts."""
    reason = (reason or "").strip()
    if not reason:
        raise CurationError("reason_required", "Say what looks wrong.", field="reason")
    with transaction.atomic():
        flag = AnalysisFlag.objects.create(
            analysis=analysis, reason=reason[:300], flagged_by=actor_of(actor)
        )
        audit_entry_create(analysis=analysis, actor=actor, action=AuditAction.FLAG, note=reason)
    return flag


def analysis_rerun(
    *,
    analyses: Iterable[VisualAnalysis],
    actor: User,
    overwrite_curated: bool = False,
    options: AnalysisOptions | None = None,
) -> int:
    """Queue the vision model again for these analyses (a django-q2 task each, after commit),
    with the analysis `options` asked for (vision, clip, depth: stamped on each row's
    `queue_options` and named in its audit entry).

    Curated ones keep their description (only their embeddings are refreshed) unless
    `overwrite_curated`; then the description they lose is kept in the audit entry.
    Returns how many were queued.
    """
    asked = options_words(options) if options is not None else ""
    ids = [a.pk for a in analyses]
    with transaction.atomic():
        rows = list(
            VisualAnalysis.objects.select_for_update(of=("self",))
            .filter(pk__in=ids)
            .exclude(status__in=NOT_REVIEWABLE)
            .select_related("image__material")
            .order_by("pk")
        )
        if not rows:
            return 0
        curated = {row.pk: analysis_is_curated(analysis=row) for row in rows}
        for row in rows:
            changes: dict[str, list[Any]] = {}
            if overwrite_curated and curated[row.pk]:
                changes["description"] = [row.description, None]
            note = (
                "queued; the curated description is kept, embeddings refreshed"
                if curated[row.pk] and not overwrite_curated
                else "queued for a new analysis"
            )
            note += f" ({asked})" if asked else ""
            audit_entry_create(
                analysis=row, actor=actor, action=AuditAction.RERUN, changes=changes, note=note
            )
        return analysis_queue_for_images(
            image_ids=[row.image_id for row in rows],
            force=True,
            force_curated=overwrite_curated,
            analysis=options.as_dict() if options is not None else None,
        )


@dataclass
class BulkOutcome:
    done: int = 0
    refused: list[str] | None = None

    def __post_init__(self) -> None:
        self.refused = self.refused or []


def _bulk(step, analyses: Iterable[VisualAnalysis], actor: User, note: str) -> BulkOutcome:
    outcome = BulkOutcome()
    for analysis in analyses:
        try:
            step(analysis=analysis, actor=actor, note=note)
        except CurationError as exc:
            outcome.refused.append(f"#{analysis.pk}: {exc.message}")
        else:
            outcome.done += 1
    return outcome


def analyses_approve(
    *, analyses: Iterable[VisualAnalysis], actor: User, note: str = ""
) -> BulkOutcome:
    """Approve each (each in its own transaction); the ones that cannot be are listed."""
    return _bulk(analysis_approve, analyses, actor, note)


def analyses_reject(
    *, analyses: Iterable[VisualAnalysis], actor: User, note: str = ""
) -> BulkOutcome:
    return _bulk(analysis_reject, analyses, actor, note)
