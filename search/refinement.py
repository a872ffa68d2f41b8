"""Background refinement: the describer's analysis of a query image, in a small bounded
thread pool inside the web process.

Why not a django-q2 task: its ORM broker would write the image bytes into the database, and
query images are never persisted. The pixels stay in this process's memory for the few
seconds the describer needs; the outcome (description + its text vector) goes to the shared
cache under the query id, so whichever web process gets `GET /api/v1/search/{query_id}/`
can answer it.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future
from functools import partial

import numpy as np
from django.conf import settings
from django.db import connections
from PIL import Image

from analysis.description import DescriptionInvalid, MaterialDescription
from analysis.pipeline import AnalysisQualityError
from analysis.providers.protocols import ImageDescriber, ProviderError, TextEmbedder
from config.memory import memory_release
from search.encoding import query_description_answer, query_text_vector
from search.metrics import REFINEMENT_SECONDS
from search.state import (
    REFINEMENT_BUDGET,
    REFINEMENT_DONE,
    REFINEMENT_FAILED,
    query_state_load,
    query_state_save,
)
from search.threads import WorkerPool

logger = logging.getLogger("swatch.search.refinement")
_pool = WorkerPool("swatch-refine")


def description_text_vector(
    *, description: dict, embedder: TextEmbedder | None
) -> np.ndarray | None:
    if embedder is None or not description:
        return None
    text = MaterialDescription.model_validate(description).as_text()
    return query_text_vector(text=text, embedder=embedder)


def refinement_run(
    *,
    query_id: str,
    pixels: Image.Image,
    sha256: str,
    describer: ImageDescriber,
    text_embedder: TextEmbedder | None,
    ttl: int,
    text_overrides: dict,
) -> str:
    """Describe the query image and record the outcome in the query's state. Over the vision
    model's limits or budget the offline analyser answers at once: outcome "budget"."""
    try:
        description, fallback, note = query_description_answer(
            pixels=pixels, sha256=sha256, describer=describer
        )
        vector = description_text_vector(description=description, embedder=text_embedder)
        outcome = REFINEMENT_BUDGET if fallback == "budget" else REFINEMENT_DONE
        error = "the vision model is over its limits or budget" if fallback else ""
    except (ProviderError, DescriptionInvalid, AnalysisQualityError) as exc:
        logger.warning("refinement of query %s failed: %s", query_id, exc)
        description, vector, outcome, error, note = {}, None, REFINEMENT_FAILED, str(exc), ""
    state = query_state_load(query_id=query_id)
    if state is None:
        return "expired"  # the query's state is gone: nobody can read the outcome
    # What the text of the query names overrides what the image analysis guessed.
    state.description = {**description, **text_overrides} if description else {}
    state.description_vector = vector
    state.description_note = note
    state.refinement = outcome
    state.refinement_error = error
    query_state_save(state=state, ttl=ttl)
    logger.info("refinement of query %s: %s", query_id, outcome)
    return outcome


def _run_and_close(*, submitted: float, **kwargs) -> str:
    outcome = "failed"
    try:
        outcome = refinement_run(**kwargs)
        return outcome
    finally:
        REFINEMENT_SECONDS.labels(outcome=outcome).observe(time.perf_counter() - submitted)
        # This thread's database connection (the DB cache) must not outlive the job.
        connections.close_all()
        memory_release()  # the query's pixels are let go of: give the memory back


def _held(pixels: Image.Image) -> Image.Image:
    """What a queued refinement keeps in memory: the query at most at the stored size (what a
    catalog image is described from), not the upload's working size."""
    side = settings.SWATCH["STORED_IMAGE_MAX_SIDE"]
    if max(pixels.size) <= side:
        return pixels
    held = pixels.copy()
    held.thumbnail((side, side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return held


def refinement_submit(*, workers: int, **kwargs) -> Future:
    """Run the refinement on the pool, in the caller's context: its log lines carry the
    request id of the search that asked for it (`config.request_id`)."""
    kwargs["pixels"] = _held(kwargs["pixels"])
    task = partial(_run_and_close, submitted=time.perf_counter(), **kwargs)
    return _pool.submit(task, workers=workers)
