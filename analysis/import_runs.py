"""An analysis run in this process (`analyze_catalog --sync`, `import_catalog --sync`), and
what an import hands the analysis app (`SWATCH["AFTER_IMPORT"]`).

A run of at least `SWATCH_BULK_LOAD_MIN_ROWS` analyses is a bulk load of their vectors
(`analysis.registry.bulk_load`): each model's vector indexes dropped when its first vector
comes, every batch's analyses written with their vectors COPYed in one transaction, the
indexes built again at the end, stopped or not. So a large import never maintains an HNSW
graph row by row, an analysis is never committed without its vectors, and a run that stops
leaves whole batches behind: running it again does the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from analysis.depth import AnalysisOptions, analysis_options_parse
from analysis.ingest import AnalysisRunSummary, analysis_run_batch
from analysis.registry.bulk_load import EmbeddingBulkLoads
from analysis.services import analysis_queue_for_images, analysis_targets_prepare

logger = logging.getLogger("swatch.analysis")


def analysis_run_here(
    *,
    analysis_ids: Iterable[int],
    options: AnalysisOptions | None = None,
    force_curated: bool = False,
    fresh: bool = False,
    batch_size: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    bulk_min_rows: int | None = None,
) -> tuple[AnalysisRunSummary, EmbeddingBulkLoads]:
    """Run the pipeline over these analyses here, in batches (a bulk load from
    `bulk_min_rows`, default `SWATCH_BULK_LOAD_MIN_ROWS`); the summary and the load."""
    ids = list(analysis_ids)
    vectors = EmbeddingBulkLoads(expected_rows=len(ids), min_rows=bulk_min_rows)
    how = {
        "analysis_ids": ids, "options": options, "force_curated": force_curated,
        "fresh": fresh, "batch_size": batch_size, "on_progress": on_progress,
    }  # fmt: skip
    if not vectors.bulk:
        return analysis_run_batch(**how), vectors
    with vectors:
        return analysis_run_batch(**how, vectors=vectors), vectors


def bulk_line(vectors: EmbeddingBulkLoads) -> str:
    """What a bulk load did, for people ("" when the run was not one)."""
    if not vectors.bulk:
        return ""
    return (
        f"bulk load: {vectors.written} vectors copied in {vectors.seconds('copy'):.1f} s, "
        f"indexes rebuilt in {vectors.seconds('index'):.1f} s"
    )


def analysis_after_import(
    *, image_ids: Iterable[int], analysis: dict | None = None, here: bool = False
) -> int | str:
    """The import hook: the new images' analyses queued for the worker (how many), or, `here`,
    run in this process (the run's summary line)."""
    if not here:
        return analysis_queue_for_images(image_ids=image_ids, analysis=analysis)
    ids = analysis_targets_prepare(images=image_ids)
    summary, vectors = analysis_run_here(analysis_ids=ids, options=analysis_options_parse(analysis))
    for reason in summary.reasons:
        logger.warning("analysis after import failed: %s", reason)
    return "; ".join(part for part in (f"analysed {len(ids)}: {summary.line()}",
                                         bulk_line(vectors)) if part)  # fmt: skip
