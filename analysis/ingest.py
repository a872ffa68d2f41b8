"""Running the ingestion pipeline over analyses: claim, compute in batches, write each.

Used by the task (one analysis per delivery) and by `analyze_catalog --sync` (batches of
`SWATCH_INGEST_BATCH_SIZE`, where the offline embedder is several times faster).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from PIL import Image

from analysis.caching import text_sha256
from analysis.compute import pipeline_run
from analysis.deferral import analysis_defer
from analysis.depth import AnalysisOptions, options_applied
from analysis.description import DescriptionInvalid, description_parse
from analysis.limits.mode import background_work
from analysis.metrics import ANALYSES
from analysis.models import AnalysisStatus, Embedding, EmbeddingKind
from analysis.models import VisualAnalysis as Analysis
from analysis.pipeline import (
    PipelineFailure,
    PipelineInput,
    PipelineOutput,
    PipelineProviders,
    known,
    pipeline_providers,
)
from analysis.services import (
    analysis_claim,
    analysis_fail,
    analysis_is_curated,
    analysis_record,
)
from materials.intake import embedding_input
from materials.models import MaterialImage

logger = logging.getLogger("swatch.analysis")


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
        # A bug, not a model's answer: the claimed rows say so at once instead of waiting for
        # the reaper, and the error goes on up.
        reason = f"internal error: {type(exc).__name__}: {exc}"
        for key, attempt in claims.items():
            analysis_fail(
                analysis_id=key, attempt=attempt, failure=PipelineFailure(key, reason, False)
            )
        raise


def _count(summary: AnalysisRunSummary, outcome: str, reason: str = "") -> None:
    known = {"completed", "needs_review", "refreshed", "retrying", "failed", "deferred"}
    ANALYSES.labels(outcome=outcome if outcome in known else "skipped").inc()
    if outcome == AnalysisStatus.COMPLETED:
        summary.completed += 1
    elif outcome == AnalysisStatus.NEEDS_REVIEW:
        summary.needs_review += 1
    elif outcome == "refreshed":
        summary.refreshed += 1
    elif outcome == "retrying":
        summary.retrying += 1
    elif outcome == "deferred":
        summary.deferred += 1
    elif outcome == AnalysisStatus.FAILED:
        summary.failed += 1
        summary.reasons.append(reason)
    else:
        summary.skipped += 1


def _failed(
    failure: PipelineFailure,
    attempt: int | None,
    *,
    force_curated: bool,
    fresh: bool,
    options: AnalysisOptions | None,
) -> str:
    if failure.defer_after:
        return analysis_defer(
            analysis_id=failure.key,
            attempt=attempt,
            failure=failure,
            force_curated=force_curated,
            fresh=fresh,
            analysis=options.as_dict() if options is not None else None,
        )
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
) -> AnalysisRunSummary:
    """Run the pipeline over analyses, a batch at a time; each one written on its own, with
    the `options` (vision, clip, depth) asked for."""
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

    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        inputs, claims = _prepare_chunk(chunk, get_providers, force_curated, summary)
        if inputs:
            with background_work():  # over a limit: deferred, not answered offline
                outcomes = _compute(inputs, claims, get_providers, size, fresh)
            for outcome in outcomes:
                attempt = claims[outcome.key]
                if isinstance(outcome, PipelineFailure):
                    status = _failed(
                        outcome, attempt, force_curated=force_curated, fresh=fresh, options=options
                    )
                    _count(summary, status, outcome.reason)
                else:
                    status = analysis_record(
                        analysis_id=outcome.key,
                        attempt=attempt,
                        output=outcome,
                        force_curated=force_curated,
                    )
                    _count(summary, status)
        if on_progress:
            on_progress(len(chunk))
    return summary


def analysis_run(
    *,
    analysis_id: int,
    providers: PipelineProviders | None = None,
    force_curated: bool = False,
    fresh: bool = False,
    options: AnalysisOptions | None = None,
) -> AnalysisRunSummary:
    return analysis_run_batch(
        analysis_ids=[analysis_id],
        providers=providers,
        force_curated=force_curated,
        fresh=fresh,
        batch_size=1,
        options=options,
    )
