"""Writes of the analysis app: the analysis lifecycle and the embeddings.

pending ──claim──▶ running ──one transaction──▶ completed | needs_review
                      │  └─ failure: retryable and attempts left ─▶ pending (queued again)
                      │  └─ failure otherwise ─────────────────────▶ failed (with its reason)
                      └─ stuck longer than the task timeout ──reaper──▶ pending | failed

The claim is a conditional UPDATE (pending → running, attempts + 1), so a second delivery of
a task finds nothing to do and calls no model. Curated analyses keep their description unless
`force_curated=True`; their embeddings are refreshed when stale.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import replace

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from analysis.caching import text_sha256
from analysis.curation.revision import descriptions_revision_bump
from analysis.embedding_writes import embeddings_write
from analysis.models import AnalysisSource, AnalysisStatus, Embedding, EmbeddingKind
from analysis.models import VisualAnalysis as Analysis
from analysis.pipeline import PipelineFailure, PipelineOutput
from analysis.queueing import (  # noqa: F401 - re-exported: the queue lives in analysis.queueing
    TASK,
    ReapSummary,
    analysis_enqueue,
    analysis_reap_stuck,
    analysis_requeue,
    max_attempts,
)
from analysis.registry.bulk_load import EmbeddingBulkLoads, VectorRow
from materials.models import Catalog, MaterialImage

logger = logging.getLogger("swatch.analysis")

RETRY_BASE_SECONDS = 30
# Done by a model: `--force` analyses these again. Failed ones are always retried when queued.
REDO_WITH_FORCE = (AnalysisStatus.COMPLETED, AnalysisStatus.NEEDS_REVIEW, AnalysisStatus.REJECTED)


def curated_q() -> Q:
    """Analyses a person has made or approved: a re-analysis must not overwrite them."""
    return Q(source=AnalysisSource.CURATED) | Q(status=AnalysisStatus.APPROVED)


def analysis_is_curated(*, analysis: Analysis) -> bool:
    return analysis.source == AnalysisSource.CURATED or analysis.status == AnalysisStatus.APPROVED


def analysis_targets_prepare(
    *,
    images: Iterable[int] | None = None,
    catalog: Catalog | None = None,
    force: bool = False,
    force_curated: bool = False,
) -> list[int]:
    """Create missing analyses, reset the ones to redo to pending, return the ids to run.

    Pending and failed analyses are always (re)done; `force` adds done ones and asks for the
    embeddings of curated ones to be refreshed; `force_curated` also analyses curated ones.
    """
    image_qs = MaterialImage.objects.all()
    if images is not None:
        image_qs = image_qs.filter(pk__in=list(images))
    if catalog is not None:
        image_qs = image_qs.filter(catalog=catalog)
    missing = image_qs.filter(analysis__isnull=True).values_list("pk", flat=True)
    Analysis.objects.bulk_create(
        [Analysis(image_id=pk) for pk in missing.iterator()], ignore_conflicts=True
    )
    rows = Analysis.objects.filter(image__in=image_qs)
    redo = [AnalysisStatus.FAILED, *(REDO_WITH_FORCE if force else ())]
    with transaction.atomic():
        rows.filter(status__in=redo).exclude(curated_q()).update(
            status=AnalysisStatus.PENDING, attempts=0
        )
        if force_curated:
            rows.filter(curated_q()).exclude(status=AnalysisStatus.RUNNING).update(
                status=AnalysisStatus.PENDING, attempts=0
            )
    wanted = Q(status=AnalysisStatus.PENDING)
    if force and not force_curated:
        wanted |= curated_q()
    return list(rows.filter(wanted).order_by("pk").values_list("pk", flat=True))


def analysis_queue_for_images(
    *,
    image_ids: Iterable[int],
    force: bool = False,
    force_curated: bool = False,
    analysis: dict | None = None,
) -> int:
    """The import hook: queue analysis of these images (with the `analysis` options asked
    for: vision, clip, depth). Returns how many were queued."""
    ids = analysis_targets_prepare(images=image_ids, force=force, force_curated=force_curated)
    fresh = force or force_curated
    analysis_enqueue(analysis_ids=ids, force_curated=force_curated, fresh=fresh, analysis=analysis)
    return len(ids)


def analysis_queue_for_catalog(
    *, catalog: Catalog | None, force: bool = False, force_curated: bool = False
) -> int:
    ids = analysis_targets_prepare(catalog=catalog, force=force, force_curated=force_curated)
    analysis_enqueue(analysis_ids=ids, force_curated=force_curated, fresh=force or force_curated)
    return len(ids)


def analysis_claim(*, analysis_id: int) -> int | None:
    """pending → running with one more attempt; the attempt number, or None if not claimable."""
    claimed = Analysis.objects.filter(
        pk=analysis_id, status=AnalysisStatus.PENDING, attempts__lt=max_attempts()
    ).update(
        status=AnalysisStatus.RUNNING,
        attempts=F("attempts") + 1,
        started_at=timezone.now(),
        finished_at=None,
    )
    if claimed:
        return Analysis.objects.values_list("attempts", flat=True).get(pk=analysis_id)
    Analysis.objects.filter(
        pk=analysis_id, status=AnalysisStatus.PENDING, attempts__gte=max_attempts()
    ).update(
        status=AnalysisStatus.FAILED,
        finished_at=timezone.now(),
        error_reason=f"gave up after {max_attempts()} attempts",
    )
    return None


def output_vectors(
    *, output: PipelineOutput, image_id: int = 0, image_sha256: str = ""
) -> list[tuple[str, str, VectorRow]]:
    """The vectors an analysis stores for its image, each with its kind and model: the image
    vector (source: the image's hash) and the description's (source: the text's hash)."""
    return [
        (EmbeddingKind.IMAGE.value, output.image_model,
         VectorRow(image_id, output.image_vector, image_sha256)),
        (EmbeddingKind.DESCRIPTION.value, output.text_model,
         VectorRow(image_id, output.text_vector, text_sha256(output.text))),
    ]  # fmt: skip


def _vectors_store(rows: list[tuple[MaterialImage, PipelineOutput]], vectors) -> None:
    """Store the analyses' vectors: upserted now in one statement, or handed to `vectors` (a
    bulk load, which writes them in the caller's transaction when it flushes)."""
    made = [
        (image, *made)
        for image, output in rows
        for made in output_vectors(output=output, image_id=image.pk, image_sha256=image.sha256)
    ]
    if vectors is not None:
        for _, kind, model, row in made:
            vectors.add(kind=kind, model=model, rows=[row])
        return
    embeddings_write(
        Embedding(
            image=image, kind=kind, model=model, dimensions=len(row.vector),
            vector=row.vector, source_sha256=row.source_sha256,
        )
        for image, kind, model, row in made
    )  # fmt: skip


# A batch's described rows in one UPDATE (Django's bulk_update builds a CASE per field and
# row: more Python time than the round trips it saves, measured by bench_bulk_load).
DESCRIBED_UPDATE = (
    f"UPDATE {Analysis._meta.db_table} AS a SET description = v.description, "  # noqa: S608 - constants
    "model_output = v.description, material_type = v.material_type, "
    "confidence = v.confidence, source = v.source, model_id = v.model_id, "
    "prompt_version = v.prompt_version, depth = v.depth, depth_note = v.depth_note, "
    "status = v.status, error_reason = '', finished_at = %s, updated_at = %s, "
    "reviewed_by_id = NULL, reviewed_at = NULL FROM jsonb_to_recordset(%s::jsonb) AS v(id "
    "bigint, description jsonb, material_type text, confidence float8, source text, model_id "
    "text, prompt_version text, depth text, depth_note text, status text) WHERE a.id = v.id"
)
DESCRIBED_COLUMNS = ("description", "material_type", "confidence", "source", "model_id",
                     "prompt_version", "depth", "depth_note", "status")  # fmt: skip


def _described_write(rows: list[Analysis]) -> None:
    """The rows `_described` changed, in one statement (one JSON document of their values)."""
    values = [{"id": row.pk, **{name: getattr(row, name) for name in DESCRIBED_COLUMNS}}
              for row in rows]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            DESCRIBED_UPDATE, [rows[0].finished_at, rows[0].updated_at, json.dumps(values)]
        )


def _described(row: Analysis, output: PipelineOutput, now) -> None:
    data = output.result.description.model_dump(mode="json")
    row.description = data
    row.model_output = data
    row.material_type = output.result.description.material_type
    row.confidence = output.result.description.confidence.overall
    row.source = output.result.source
    row.model_id = output.result.model_id
    row.prompt_version = output.result.prompt_version
    row.depth = output.result.depth
    row.depth_note = output.result.depth_note[:300]
    row.status = output.status
    row.error_reason = ""
    row.finished_at = row.updated_at = now
    row.reviewed_by = None
    row.reviewed_at = None


def analysis_records(
    *,
    outputs: list[tuple[PipelineOutput, int | None]],
    force_curated: bool = False,
    vectors: EmbeddingBulkLoads | None = None,
) -> dict[int, str]:
    """Write outcomes (each with the attempt that claimed it) in one short transaction: the
    rows locked together, the described ones updated in one statement, the vectors stored
    (or given to `vectors`, a bulk load: then in the caller's transaction), one revision
    bump. The status written by analysis id."""
    statuses: dict[int, str] = {}
    with transaction.atomic():
        locked = (  # what the checks and the vectors read; the rest is overwritten or kept
            Analysis.objects.select_for_update().select_related("image")
            .only("status", "attempts", "source", "image__sha256")
        )  # fmt: skip
        rows = {
            row.pk: row for row in locked.filter(pk__in=[o.key for o, _ in outputs]).order_by("pk")
        }
        described, stored, now = [], [], timezone.now()
        for output, attempt in outputs:
            row = rows.get(output.key)
            if row is None or (attempt is not None and (
                row.status != AnalysisStatus.RUNNING or row.attempts != attempt
            )):  # fmt: skip
                statuses[output.key] = "superseded"  # gone, or reaped and claimed again
                continue
            keep = analysis_is_curated(analysis=row) and not force_curated
            statuses[output.key] = "refreshed"
            if output.result is not None and not keep:
                _described(row, output, now)
                described.append(row)
                statuses[output.key] = row.status
            stored.append((row.image, output))
        if described:
            _described_write(described)
        if stored:
            _vectors_store(stored, vectors)
            # What search answers are computed from changed (a new description, new vectors, a
            # material now searchable): answers cached before must not be reused.
            descriptions_revision_bump()
    return statuses


def analysis_record(
    *, analysis_id: int, attempt: int | None, output: PipelineOutput, force_curated: bool = False
) -> str:
    """Write one outcome in one short transaction. Returns the status written."""
    output = replace(output, key=analysis_id)
    return analysis_records(outputs=[(output, attempt)], force_curated=force_curated)[analysis_id]


def analysis_fail(*, analysis_id: int, attempt: int | None, failure: PipelineFailure) -> str:
    """Record a failure: back to pending (retry queued) while attempts last, else failed."""
    if attempt is None:  # an embedding refresh of a curated analysis: its row stays as it is
        logger.warning("embedding refresh of analysis %s failed: %s", analysis_id, failure.reason)
        return AnalysisStatus.FAILED
    with transaction.atomic():
        row = Analysis.objects.select_for_update().get(pk=analysis_id)
        if row.status != AnalysisStatus.RUNNING or row.attempts != attempt:
            return "superseded"
        if failure.retryable and row.attempts < max_attempts():
            row.status = AnalysisStatus.PENDING
            row.error_reason = f"attempt {row.attempts}: {failure.reason}"[:2000]
            row.save(update_fields=["status", "error_reason", "updated_at"])
            delay = RETRY_BASE_SECONDS * 2 ** (row.attempts - 1)
            analysis_requeue(analysis_ids=[row.pk], delay_seconds=delay)
            return "retrying"
        row.status = AnalysisStatus.FAILED
        row.error_reason = failure.reason[:2000]
        row.finished_at = timezone.now()
        row.save(update_fields=["status", "error_reason", "finished_at", "updated_at"])
        return AnalysisStatus.FAILED
