"""Running the ingestion pipeline over analyses: claim, compute in batches, write each.

Used by the task (one analysis per delivery) and by `analyze_catalog --sync` (batches of
`SWATCH_INGEST_BATCH_SIZE`, where the offline embedder is several times faster).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from PIL import Image

from analysis.caching import text_sha256
from analysis.compute import pipeline_run
from analysis.deferral import analysis_defer
from analysis.depth import AnalysisOptions
from analysis.description import DescriptionInvalid, description_parse
from analysis.limits.mode import background_work
from analysis.metrics import ANALYSES
from analysis.models import Embedding, EmbeddingKind
from analysis.models import VisualAnalysis as Analysis
from analysis.pipeline import (
    PipelineFailure,
    PipelineInput,
    PipelineOutput,
    PipelineProviders,
    known,
    pipeline_providers,
)
from analysis.providers.options import options_applied
from analysis.registry.bulk_load import EmbeddingBulkLoads
from analysis.services import (
    analysis_claim,
    analysis_fail,
    analysis_is_curated,
    analysis_record,
    analysis_records,
    output_vector_keys,
)
from materials.intake import embedding_input
from materials.models import MaterialImage

logger = logging.getLogger("swatch.analysis")
# A bulk load writes its analyses this many at a time (each write one transaction with their
# COPYed vectors): few round trips per row; an interruption loses at most these computations.
BULK_WRITE_ROWS = 1000


@dataclass
class AnalysisRunSummary:
    completed: int = 0
    needs_review: int = 0
    failed: int = 0
    retrying: int = 0
    deferred: int = 0
    refreshed: int = 0
    skipped: int = 0
    reasons: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"completed {self.completed}, needs review {self.needs_review}, "
            f"failed {self.failed}, retrying {self.retrying}, deferred {self.deferred}, "
            f"embeddings refreshed {self.refreshed}, skipped {self.skipped}"
        )


def _load_pixels(image: MaterialImage) -> Image.Image:
    with image.image.open("rb") as handle:
        pixels = Image.open(handle)
        pixels.load()
    return pixels.convert("RGB")


def _load_embedding_input(image: MaterialImage, pixels: Image.Image) -> Image.Image:
    """The embedders' input kept at intake (lossless, from the decoded upload), as a query
    upload of the same pixels makes it; an image stored before it was kept: from `pixels`."""
    if not image.embedding_input:
        return embedding_input(pixels)
    with image.embedding_input.open("rb") as handle:
        kept = Image.open(handle)
        kept.load()
    return kept.convert("RGB")


def _embeddings_fresh(*, row: Analysis, text: str, providers: PipelineProviders) -> bool:
    image_model = known(lambda: providers.image_embedder.model)
    text_model = known(lambda: providers.text_embedder.model)
    stored = set(
        Embedding.objects.filter(image_id=row.image_id).values_list(
            "kind", "model", "source_sha256"
        )
    )
    return {
        (EmbeddingKind.IMAGE.value, image_model, row.image.sha256),
        (EmbeddingKind.DESCRIPTION.value, text_model, text_sha256(text)),
    } <= stored


def _prepare_chunk(
    ids: list[int],
    providers: Callable[[], PipelineProviders],
    force_curated: bool,
    summary: AnalysisRunSummary,
) -> tuple[list[PipelineInput], dict[int, int | None]]:
    inputs: list[PipelineInput] = []
    claims: dict[int, int | None] = {}
    for row in Analysis.objects.select_related("image").filter(pk__in=ids).order_by("pk"):
        kept = None
        if analysis_is_curated(analysis=row) and not force_curated:
            try:
                kept = description_parse(row.description)
            except DescriptionInvalid as exc:
                logger.warning("curated analysis %s does not validate: %s", row.pk, exc)
                summary.skipped += 1
                continue
            if _embeddings_fresh(row=row, text=kept.as_text(), providers=providers()):
                summary.skipped += 1
                continue
            claims[row.pk] = None
        else:
            attempt = analysis_claim(analysis_id=row.pk)
            if attempt is None:
                summary.skipped += 1
                continue
            claims[row.pk] = attempt
        try:
            pixels = _load_pixels(row.image)
            embedding_pixels = _load_embedding_input(row.image, pixels)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            reason = f"image unreadable: {type(exc).__name__}: {exc}"
            _count(
                summary,
                analysis_fail(
                    analysis_id=row.pk,
                    attempt=claims.pop(row.pk),
                    failure=PipelineFailure(row.pk, reason, False),
                ),
                reason,
            )
            continue
        inputs.append(
            PipelineInput(row.pk, row.image.sha256, pixels, kept, embedding_pixels=embedding_pixels)
        )
    return inputs, claims


def _compute(
    inputs: list[PipelineInput],
    claims: dict[int, int | None],
    providers: Callable[[], PipelineProviders],
    batch_size: int,
    fresh: bool,
) -> list[PipelineOutput | PipelineFailure]:
    try:
        return pipeline_run(
            inputs=inputs, providers=providers(), batch_size=batch_size, fresh=fresh
        )
    except Exception as exc:
        _claims_failed(claims, exc)
        raise


def _claims_failed(claims: dict[int, int | None], exc: Exception) -> None:
    """A bug, not a model's answer: the claimed rows still running say so at once (failed: the
    next run does them again) instead of waiting for the reaper; the error goes on up."""
    reason = f"internal error: {type(exc).__name__}: {exc}"
    for key, attempt in claims.items():
        analysis_fail(analysis_id=key, attempt=attempt, failure=PipelineFailure(key, reason, False))


COUNTED = ("completed", "needs_review", "refreshed", "retrying", "failed", "deferred")


def _count(summary: AnalysisRunSummary, outcome: str, reason: str = "", times: int = 1) -> None:
    name = outcome if outcome in COUNTED else "skipped"  # a status value is its summary field
    ANALYSES.labels(outcome=name).inc(times)
    setattr(summary, name, getattr(summary, name) + times)
    if name == "failed":
        summary.reasons.append(reason)


def _failed(failure: PipelineFailure, attempt: int | None, *, force_curated: bool, fresh: bool,
            options: AnalysisOptions | None) -> str:  # fmt: skip
    if failure.defer_after:
        return analysis_defer(
            analysis_id=failure.key, attempt=attempt, failure=failure, force_curated=force_curated,
            fresh=fresh, analysis=options.as_dict() if options is not None else None,
        )  # fmt: skip
    return analysis_fail(analysis_id=failure.key, attempt=attempt, failure=failure)


def analysis_run_batch(
    *,
    analysis_ids: Iterable[int],
    providers: PipelineProviders | None = None,
    force_curated: bool = False,
    fresh: bool = False,
    batch_size: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    options: AnalysisOptions | None = None,
    vectors: EmbeddingBulkLoads | None = None,
) -> AnalysisRunSummary:
    """Run the pipeline over analyses, a batch at a time; each one written on its own, with
    the `options` (vision, clip, depth) asked for — or, with `vectors` (a bulk load, opened
    by the caller), each batch in one transaction, its vectors COPYed."""
    ids = list(analysis_ids)
    size = batch_size or settings.SWATCH["INGEST_BATCH_SIZE"]
    summary = AnalysisRunSummary()
    resolved: list[PipelineProviders] = [providers] if providers else []

    def get_providers() -> PipelineProviders:
        if not resolved:  # only when there is work: a repeated delivery builds nothing
            resolved.append(pipeline_providers())
        if options is not None and len(resolved) == 1:
            chosen = resolved[0]
            parts = (chosen.describer, chosen.image_embedder, chosen.text_embedder)
            resolved.append(PipelineProviders(*options_applied(*parts, options)))
        return resolved[-1]

    written: tuple[list, dict] = ([], {})  # a bulk load writes BULK_WRITE_ROWS at a time
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        inputs, claims = _prepare_chunk(chunk, get_providers, force_curated, summary)
        if inputs:
            with background_work():  # over a limit: deferred, not answered offline
                written[0].extend(_compute(inputs, claims, get_providers, size, fresh))
            written[1].update(claims)
        last = start + size >= len(ids)
        if written[0] and (vectors is None or last or len(written[0]) >= BULK_WRITE_ROWS):
            how = {"force_curated": force_curated, "fresh": fresh, "options": options}
            try:
                outcomes_write(*written, summary, vectors=vectors, **how)
            except Exception as exc:  # a bulk batch's transaction rolled back: none written
                _claims_failed(written[1], exc)
                raise
            written = ([], {})
        if on_progress:
            on_progress(len(chunk))
    return summary


def outcomes_write(outcomes: list, claims: dict, summary: AnalysisRunSummary, *, vectors, **how):
    """Write a batch's outcomes (claims: analysis id → attempt): each in its own transaction,
    or, in a bulk load (`vectors`), the analyses and their COPYed vectors in one (the indexes
    dropped before it). `how`: force_curated, fresh, options. bench_bulk_load times it."""
    if vectors is not None:
        vectors.open(dict.fromkeys(
            key
            for outcome in outcomes if isinstance(outcome, PipelineOutput)
            for key in output_vector_keys(output=outcome)
        ))  # fmt: skip
    with transaction.atomic() if vectors is not None else nullcontext():
        described = []
        for outcome in outcomes:
            attempt = claims[outcome.key]
            if isinstance(outcome, PipelineFailure):
                _count(summary, _failed(outcome, attempt, **how), outcome.reason)
            elif vectors is None:  # each in its own transaction
                status = analysis_record(
                    analysis_id=outcome.key, attempt=attempt, output=outcome,
                    force_curated=how["force_curated"],
                )  # fmt: skip
                _count(summary, status)
            else:
                described.append((outcome, attempt))
        if described:  # the batch's analyses together, their vectors COPYed
            records = analysis_records(
                outputs=described, force_curated=how["force_curated"], vectors=vectors
            )
            for status, times in Counter(records.values()).items():
                _count(summary, status, times=times)
            vectors.flush()


def analysis_run(
    *,
    analysis_id: int,
    providers: PipelineProviders | None = None,
    force_curated: bool = False,
    fresh: bool = False,
    options: AnalysisOptions | None = None,
) -> AnalysisRunSummary:
    return analysis_run_batch(
        analysis_ids=[analysis_id], providers=providers, force_curated=force_curated,
        fresh=fresh, batch_size=1, options=options,
    )  # fmt: skip
