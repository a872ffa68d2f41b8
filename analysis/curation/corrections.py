"""Corrections: a curator's description replaces the model's.

A correction is validated against the description schema, embedded (the description text,
with the pipeline's text embedder: a small local model) *before* the transaction, then written
in one short transaction: the analysis (source `curated`, confidence 1.0, status `approved`),
its description embedding and the audit entry. Search therefore sees it at once. The pipeline
keeps curated analyses as they are unless a curator asks for `force_curated`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from analysis.caching import text_sha256
from analysis.curation.diff import description_diff
from analysis.curation.revision import descriptions_revision_bump
from analysis.curation.services import (
    CURATED_CONFIDENCE,
    NOT_REVIEWABLE,
    CurationError,
    User,
    actor_of,
    analysis_locked,
    audit_entry_create,
    flags_resolve,
    row_changes,
)
from analysis.description import CATEGORY_OF_TYPE, DescriptionInvalid, description_parse
from analysis.embedding_writes import embeddings_write
from analysis.models import (
    AnalysisAuditEntry,
    AnalysisSource,
    AnalysisStatus,
    AuditAction,
    Embedding,
    EmbeddingKind,
    VisualAnalysis,
)
from analysis.pipeline import AnalysisQualityError, pipeline_providers, vector_checked
from analysis.providers.protocols import ProviderError, TextEmbedder
from analysis.services import analysis_enqueue

# The pipeline's quality check refuses shares adding up to more than this.
MAX_SHARE_TOTAL = 1.05


@dataclass(frozen=True)
class CorrectionResult:
    analysis: VisualAnalysis
    changed: bool
    entry: AnalysisAuditEntry | None


@dataclass(frozen=True)
class PreparedCorrection:
    """A validated curated description with its text embedding, ready to be written."""

    description: dict[str, Any]
    text: str
    text_model: str
    vector: np.ndarray


def curated_description(*, raw: dict[str, Any]) -> dict[str, Any]:
    """Validate a curator's description: the schema, the category that follows from the type,
    colour shares, and every confidence at 1.0. Raises `CurationError`."""
    if not isinstance(raw, dict):
        raise CurationError("invalid_description", "a description must be a JSON object")
    data = dict(raw)
    material_type = str(data.get("material_type") or "").strip().lower()
    if material_type in CATEGORY_OF_TYPE:
        data["category"] = CATEGORY_OF_TYPE[material_type]
    data["confidence"] = {
        key: CURATED_CONFIDENCE
        for key in ("overall", "material_type", "colors", "texture", "finish", "pattern")
    }
    try:
        parsed = description_parse(data)
    except DescriptionInvalid as exc:
        first = exc.reasons[0].split(":", 1)[0] if exc.reasons else None
        raise CurationError("invalid_description", "; ".join(exc.reasons), field=first) from exc
    total = sum(color.share for color in parsed.colors)
    if total > MAX_SHARE_TOTAL:
        raise CurationError(
            "invalid_description",
            f"colour shares add up to {total:.2f}; they must not exceed 1",
            field="colors",
        )
    return parsed.model_dump(mode="json")


def _embed(texts: Sequence[str], embedder: TextEmbedder) -> tuple[str, list[np.ndarray]]:
    """The model that made the vectors (a fallback's, during an outage), and the vectors."""
    try:
        batch = embedder.embed_texts(list(texts))
        if batch.vectors.shape[0] != len(texts):
            raise AnalysisQualityError(f"{batch.vectors.shape[0]} vectors for {len(texts)} texts")
        return batch.model, [
            vector_checked(row, dimensions=batch.dimensions, what="text embedding")
            for row in batch.vectors
        ]
    except (ProviderError, AnalysisQualityError) as exc:
        raise CurationError(
            "embedding_failed",
            f"the description could not be embedded ({exc}); nothing was saved, try again.",
        ) from exc


def _text_embedder(text_embedder: TextEmbedder | None) -> TextEmbedder:
    return text_embedder if text_embedder is not None else pipeline_providers().text_embedder


def corrections_prepare(
    *, raws: Sequence[dict[str, Any]], text_embedder: TextEmbedder | None = None
) -> list[PreparedCorrection]:
    """Validate and embed many descriptions at once (slow I/O: outside any transaction)."""
    descriptions = [curated_description(raw=raw) for raw in raws]
    if not descriptions:
        return []
    texts = [description_parse(data).as_text() for data in descriptions]
    embedder = _text_embedder(text_embedder)
    model, vectors = _embed(texts, embedder)
    return [
        PreparedCorrection(description=d, text=t, text_model=model, vector=v)
        for d, t, v in zip(descriptions, texts, vectors, strict=True)
    ]


def analysis_correction_write(
    *,
    analysis: VisualAnalysis,
    actor: User,
    prepared: PreparedCorrection,
    note: str = "",
    action: str = AuditAction.CORRECT,
    version: str | None = None,
) -> CorrectionResult:
    """Write a prepared correction, its description embedding and audit entry in one
    transaction. Writing the same description again changes nothing and audits nothing."""
    with transaction.atomic():
        row = analysis_locked(analysis=analysis, version=version)
        changes = {
            change.field: [change.old, change.new]
            for change in description_diff(before=row.description, after=prepared.description)
            if not change.field.startswith("confidence.")
        }
        changes.update(
            row_changes(
                row,
                status=AnalysisStatus.APPROVED,
                source=AnalysisSource.CURATED,
                confidence=CURATED_CONFIDENCE,
            )
        )
        if not changes:
            return CorrectionResult(analysis=row, changed=False, entry=None)
        row.description = prepared.description
        row.material_type = prepared.description["material_type"]
        row.confidence = CURATED_CONFIDENCE
        row.source = AnalysisSource.CURATED
        row.status = AnalysisStatus.APPROVED
        row.error_reason = ""
        row.reviewed_by = actor_of(actor)
        row.reviewed_at = timezone.now()
        row.save()
        embeddings_write(
            [
                Embedding(
                    image_id=row.image_id,
                    kind=EmbeddingKind.DESCRIPTION,
                    model=prepared.text_model,
                    dimensions=int(prepared.vector.shape[0]),
                    vector=prepared.vector,
                    source_sha256=text_sha256(prepared.text),
                )
            ]
        )
        flags_resolve(analysis=row)
        entry = audit_entry_create(
            analysis=row, actor=actor, action=action, changes=changes, note=note
        )
        descriptions_revision_bump()
        if not Embedding.objects.filter(image_id=row.image_id, kind=EmbeddingKind.IMAGE).exists():
            # A failed analysis has no image vector: the task, seeing a curated analysis,
            # keeps the description and only computes the missing embeddings.
            analysis_enqueue(analysis_ids=[row.pk])
    return CorrectionResult(analysis=row, changed=True, entry=entry)


def analysis_correct(
    *,
    analysis: VisualAnalysis,
    actor: User,
    description: dict[str, Any],
    note: str = "",
    text_embedder: TextEmbedder | None = None,
    version: str | None = None,
    action: str = AuditAction.CORRECT,
) -> CorrectionResult:
    """A curator's description replaces the current one: validated, embedded, approved.
    `version`: the row as the curator saw it (a newer save by someone else is refused)."""
    if analysis.status in NOT_REVIEWABLE:
        raise CurationError(
            "busy", f"analysis #{analysis.pk} is {analysis.status}: wait until it is done."
        )
    (prepared,) = corrections_prepare(raws=[description], text_embedder=text_embedder)
    return analysis_correction_write(
        analysis=analysis, actor=actor, prepared=prepared, note=note, version=version, action=action
    )
