"""The model side of ingestion: describe ∥ embed, quality check, text embedding.

Nothing here writes to the database or runs inside a transaction: model calls are slow I/O.
Results are cached (see `analysis.caching`), so the same bytes are not sent to a model twice
within the cache's lifetime.

Describing and embedding run in two threads. When the describer can use the pipeline's own
image embedding (the offline analyser classifies the embedding), the image is embedded once:
the embedder works through sub-batches while the describer describes the ones already
embedded, so the two still overlap.
"""

from __future__ import annotations

import inspect
import logging
import queue
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from django.db import connections

from analysis import caching
from analysis.description import DescriptionInvalid
from analysis.pipeline import (
    AnalysisQualityError,
    Embedded,
    PipelineFailure,
    PipelineInput,
    PipelineOutput,
    PipelineProviders,
    description_status,
    failure_of,
    known,
    vector_checked,
)
from analysis.providers.protocols import (
    DescriptionResult,
    ImageDescriber,
    ImageEmbedder,
    TextEmbedder,
)

logger = logging.getLogger("swatch.analysis.pipeline")


def _in_thread(work: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        try:
            return work()
        finally:
            # Providers may record calls in the database from this thread: close its connection.
            connections.close_all()

    return run


def _describe_each(
    describer: ImageDescriber,
    items: Sequence[PipelineInput],
    hints: dict[int, dict[str, Any]] | None = None,
) -> dict[int, DescriptionResult | PipelineFailure]:
    # A fallback chain accepts the file's hash for its ledger rows; a plain provider may not.
    takes_sha = "image_sha256" in inspect.signature(describer.describe).parameters
    answers: dict[int, DescriptionResult | PipelineFailure] = {}
    for item in items:
        kwargs = dict((hints or {}).get(item.key, {}))
        if takes_sha:
            kwargs["image_sha256"] = item.sha256
        try:
            answers[item.key] = describer.describe(item.pixels, **kwargs)
        except Exception as exc:  # noqa: BLE001 - recorded on the row as its failure reason
            answers[item.key] = failure_of(item.key, "analysis", exc)
    return answers


def embedding_hint(describer: ImageDescriber) -> Callable[[Embedded], dict[str, Any]] | None:
    """How to hand the describer the pipeline's image embedding, if it can use one.

    A describer whose `describe` takes `embedding` and `embedding_model` decides itself (a chain
    uses it only for a link of that model); one that takes only `embedding` gets it when its own
    `embedder` is the same model. None: the describer embeds by itself, if it needs to.
    """
    params = inspect.signature(describer.describe).parameters
    if "embedding" not in params:
        return None
    if "embedding_model" in params:
        return lambda e: {"embedding": e.vector, "embedding_model": e.model}
    own = known(lambda: getattr(getattr(describer, "embedder", None), "model", None))
    return (lambda e: {"embedding": e.vector} if e.model == own else {}) if own else None


def _describe_as_embedded(
    describer: ImageDescriber,
    hint: Callable[[Embedded], dict[str, Any]],
    items: Sequence[PipelineInput],
    cached: dict[int, Embedded],
    arrivals: queue.Queue,
) -> dict[int, DescriptionResult | PipelineFailure]:
    """Describe each image once its embedding is there (cached, or arriving sub-batch by
    sub-batch from the embedding thread); an image whose embedding failed is not described."""
    ready: dict[int, Embedded | PipelineFailure] = dict(cached)
    waiting = list(items)
    answers: dict[int, DescriptionResult | PipelineFailure] = {}
    finished = False
    while waiting:
        now = [i for i in waiting if isinstance(ready.get(i.key), Embedded)]
        answers.update(_describe_each(describer, now, {i.key: hint(ready[i.key]) for i in now}))
        waiting = [i for i in waiting if i.key not in ready]
        if finished:
            break
        if waiting:
            part = arrivals.get()
            if part is None:
                finished = True
            else:
                ready.update(part)
    return answers


def _embed_call(embedder: Any, method: str, inputs: Sequence[Any]) -> tuple[np.ndarray, str, int]:
    """Vectors, and the model that made them: a fallback chain may answer with another model
    (e.g. EfficientNet-Lite0 when CLIP is down); its vectors are stored under that name."""
    with_model = getattr(embedder, f"{method}_with_model", None)
    if with_model is not None:
        batch = with_model(inputs)
        return np.asarray(batch.vectors), str(batch.model), int(batch.dimensions)
    return np.asarray(getattr(embedder, method)(inputs)), embedder.model, embedder.dimensions


def _embed_batches(
    embedder: ImageEmbedder, items: Sequence[PipelineInput], batch_size: int
) -> dict[int, Embedded | PipelineFailure]:
    vectors: dict[int, Embedded | PipelineFailure] = {}
    for start in range(0, len(items), batch_size):
        batch = items[start : start + batch_size]
        try:
            matrix, model, dimensions = _embed_call(
                embedder, "embed_images", [item.embedder_input for item in batch]
            )
            if matrix.shape[0] != len(batch):
                raise AnalysisQualityError(f"{matrix.shape[0]} vectors for {len(batch)} images")
        except Exception as exc:  # noqa: BLE001 - retried one by one to isolate the bad image
            if len(batch) == 1:
                vectors[batch[0].key] = failure_of(batch[0].key, "image embedding", exc)
                continue
            vectors.update(_embed_batches(embedder, batch, 1))
            continue
        for item, row in zip(batch, matrix, strict=True):
            try:
                vector = vector_checked(row, dimensions=dimensions, what="image embedding")
                vectors[item.key] = Embedded(model, vector)
            except AnalysisQualityError as exc:
                vectors[item.key] = failure_of(item.key, "image embedding", exc)
    return vectors


def _embed_announcing(
    embedder: ImageEmbedder, items: Sequence[PipelineInput], step: int, arrivals: queue.Queue
) -> dict[int, Embedded | PipelineFailure]:
    vectors: dict[int, Embedded | PipelineFailure] = {}
    try:
        for start in range(0, len(items), step):
            part = _embed_batches(embedder, items[start : start + step], step)
            vectors.update(part)
            arrivals.put(part)
    finally:
        arrivals.put(None)  # the describer never waits for an embedding that will not come
    return vectors


def _embed_texts(
    embedder: TextEmbedder, texts: dict[int, str], *, fresh: bool
) -> dict[int, Embedded | PipelineFailure]:
    vectors: dict[int, Embedded | PipelineFailure] = {}
    missing: dict[int, str] = {}
    model = None if fresh else known(lambda: embedder.model)
    dimensions = known(lambda: embedder.dimensions) if model else None
    for key, text in texts.items():
        hit = None
        if model and dimensions:
            hit = caching.cached_text_embedding(text=text, model=model, dimensions=dimensions)
        if hit is None:
            missing[key] = text
        else:
            vectors[key] = Embedded(model, hit)
    if not missing:
        return vectors
    try:
        matrix, model, dimensions = _embed_call(embedder, "embed_texts", list(missing.values()))
        if matrix.shape[0] != len(missing):
            raise AnalysisQualityError(f"{matrix.shape[0]} vectors for {len(missing)} texts")
        for (key, text), row in zip(missing.items(), matrix, strict=True):
            vector = vector_checked(row, dimensions=dimensions, what="text embedding")
            caching.cache_text_embedding(text=text, model=model, vector=vector)
            vectors[key] = Embedded(model, vector)
    except Exception as exc:  # noqa: BLE001 - every item of the batch records the reason
        for key in missing:
            vectors.setdefault(key, failure_of(key, "text embedding", exc))
    return vectors


def _cached_answers(
    items: Sequence[PipelineInput], providers: PipelineProviders
) -> tuple[dict[int, DescriptionResult], dict[int, Embedded]]:
    describer, embedder = providers.describer, providers.image_embedder
    model_id = known(lambda: describer.model_id)
    prompt_version = known(lambda: caching.describer_prompt_version(describer))
    image_model = known(lambda: embedder.model)
    dimensions = known(lambda: embedder.dimensions)
    descriptions: dict[int, DescriptionResult] = {}
    vectors: dict[int, Embedded] = {}
    for item in items:
        if item.kept_description is None and model_id and prompt_version is not None:
            hit = caching.cached_description(
                sha256=item.sha256, model_id=model_id, prompt_version=prompt_version
            )
            if hit is not None:
                descriptions[item.key] = hit
        if image_model and dimensions:
            vector = caching.cached_image_embedding(
                sha256=item.sha256, model=image_model, dimensions=dimensions
            )
            if vector is not None:
                vectors[item.key] = Embedded(image_model, vector)
    return descriptions, vectors


def pipeline_run(
    *,
    inputs: Sequence[PipelineInput],
    providers: PipelineProviders,
    batch_size: int = 1,
    fresh: bool = False,
) -> list[PipelineOutput | PipelineFailure]:
    """Describe ∥ embed every input (cache first, unless `fresh`), check quality, embed the
    descriptions. `fresh` (a forced re-analysis) asks the models again and re-caches."""
    descriptions, vectors = ({}, {}) if fresh else _cached_answers(inputs, providers)
    to_describe = [i for i in inputs if i.kept_description is None and i.key not in descriptions]
    to_embed = [i for i in inputs if i.key not in vectors]
    by_key = {item.key: item for item in inputs}
    hint = embedding_hint(providers.describer)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="swatch-pipeline") as pool:
        if hint is None:
            described = pool.submit(
                _in_thread(lambda: _describe_each(providers.describer, to_describe))
            )
            embedded = pool.submit(
                _in_thread(lambda: _embed_batches(providers.image_embedder, to_embed, batch_size))
            )
        else:
            arrivals: queue.Queue = queue.Queue()
            # Half-size sub-batches: the describer starts on the first while the second embeds.
            step = max(1, min(batch_size, (len(to_embed) + 1) // 2))
            embedded = pool.submit(
                _in_thread(
                    lambda: _embed_announcing(providers.image_embedder, to_embed, step, arrivals)
                )
            )
            described = pool.submit(
                _in_thread(
                    lambda: _describe_as_embedded(
                        providers.describer, hint, to_describe, vectors, arrivals
                    )
                )
            )
        new_descriptions, new_vectors = described.result(), embedded.result()

    failures: dict[int, PipelineFailure] = {}
    for key, answer in new_descriptions.items():
        if isinstance(answer, PipelineFailure):
            failures[key] = answer
        else:
            descriptions[key] = answer
    for key, vector in new_vectors.items():
        if isinstance(vector, PipelineFailure):
            failures.setdefault(key, vector)
        else:
            vectors[key] = vector
            caching.cache_image_embedding(
                sha256=by_key[key].sha256, model=vector.model, vector=vector.vector
            )

    statuses: dict[int, str] = {}
    texts: dict[int, str] = {}
    for item in inputs:
        if item.key in failures:
            continue
        if item.kept_description is not None:
            texts[item.key] = item.kept_description.as_text()
            continue
        result = descriptions[item.key]
        try:
            statuses[item.key] = description_status(result)
        except (DescriptionInvalid, AnalysisQualityError) as exc:
            failures[item.key] = failure_of(item.key, "quality check", exc)
            continue
        if item.key in new_descriptions:
            caching.cache_description(sha256=item.sha256, result=result)
        texts[item.key] = result.description.as_text()

    text_vectors = _embed_texts(providers.text_embedder, texts, fresh=fresh)
    outcomes: list[PipelineOutput | PipelineFailure] = []
    for item in inputs:
        text_vector = text_vectors.get(item.key)
        if item.key in failures or isinstance(text_vector, PipelineFailure):
            outcomes.append(failures.get(item.key) or text_vector)
            continue
        result = None if item.kept_description is not None else descriptions[item.key]
        outcomes.append(
            PipelineOutput(
                key=item.key,
                description=item.kept_description or result.description,
                result=result,
                status=statuses.get(item.key, ""),
                image_model=vectors[item.key].model,
                image_vector=vectors[item.key].vector,
                text_model=text_vector.model,
                text_vector=text_vector.vector,
                text=texts[item.key],
            )
        )
    return outcomes
