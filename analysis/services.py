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
    return _curated(analysis.source, analysis.status)


def _curated(source: str, status: str) -> bool:
    return source == AnalysisSource.CURATED or status == AnalysisStatus.APPROVED


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


def output_vector_keys(*, output: PipelineOutput) -> list[tuple[str, str, int]]:
    """(kind, model, dimensions) of the vectors `output_vectors` makes, without making them."""
    return [
        (EmbeddingKind.IMAGE.value, output.image_model, len(output.image_vector)),
        (EmbeddingKind.DESCRIPTION.value, output.text_model, len(output.text_vector)),
    ]


def _vectors_store(rows: list[tuple[int, str, PipelineOutput]], vectors) -> None:
    """Store the analyses' vectors (rows: image id, image hash, output): upserted now in one
    statement, or handed to `vectors` (a bulk load, which writes them in the caller's
    transaction when it flushes), one call per model."""
    made = [
        made
        for image_id, sha256, output in rows
        for made in output_vectors(output=output, image_id=image_id, image_sha256=sha256)
    ]
    if vectors is not None:
        by_model: dict[tuple[str, str], list[VectorRow]] = {}
        for kind, model, row in made:
            by_model.setdefault((kind, model), []).append(row)
        for (kind, model), model_rows in by_model.items():
            vectors.add(kind=kind, model=model, rows=model_rows)
        return
    embeddings_write(
        Embedding(
            image_id=row.image_id, kind=kind, model=model, dimensions=len(row.vector),
            vector=row.vector, source_sha256=row.source_sha256,
        )
        for kind, model, row in made
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


def _described(analysis_id: int, output: PipelineOutput) -> dict:
    """The columns an output's description sets (the UPDATE sets the rest alike for all)."""
    result = output.result
    return {
        "id": analysis_id, "description": result.description.model_dump(mode="json"),
        "material_type": result.description.material_type,
        "confidence": result.description.confidence.overall, "source": result.source,
        "model_id": result.model_id, "prompt_version": result.prompt_version,
        "depth": result.depth, "depth_note": result.depth_note[:300], "status": output.status,
    }  # fmt: skip


def _described_write(values: list[dict], now) -> None:
    """The described rows in one statement (one JSON document of their values)."""
    with connection.cursor() as cursor:
        cursor.execute(DESCRIBED_UPDATE, [now, now, json.dumps(values)])


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
        # What the checks and the vectors read, as tuples: a bulk load locks 1,000 rows a
        # batch, and model instances of them cost more than the statement (bench_bulk_load).
        # Only the analyses are locked: an image's hash never changes, and deleting the image
        # waits for its analysis's lock anyway.
        locked = (
            Analysis.objects.select_for_update(of=("self",))
            .filter(pk__in=[o.key for o, _ in outputs]).order_by("pk")
            .values_list("pk", "status", "attempts", "source", "image_id", "image__sha256")
        )  # fmt: skip
        rows = {row[0]: row for row in locked}
        described, stored = [], []
        for output, attempt in outputs:
            row = rows.get(output.key)
            if row is None or (attempt is not None and (
                row[1] != AnalysisStatus.RUNNING or row[2] != attempt
            )):  # fmt: skip
                statuses[output.key] = "superseded"  # gone, or reaped and claimed again
                continue
            keep = _curated(row[3], row[1]) and not force_curated
            statuses[output.key] = "refreshed"
            if output.result is not None and not keep:
                described.append(_described(output.key, output))
                statuses[output.key] = output.status
            stored.append((row[4], row[5], output))
        if described:
            _described_write(described, timezone.now())
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
