"""Embedding the pipeline's images (in batches, a bad image isolated) and its texts.

Every embedder answers with an `EmbeddingBatch` naming the model that made the vectors: a
fallback chain may answer with another model (EfficientNet-Lite0 when CLIP is down), and the
vectors are stored under that name.
"""

from __future__ import annotations

import queue
from collections.abc import Sequence

from analysis import caching
from analysis.pipeline import (
    AnalysisQualityError,
    Embedded,
    PipelineFailure,
    PipelineInput,
    failure_of,
    known,
    vector_checked,
)
from analysis.providers.protocols import EmbeddingBatch, ImageEmbedder, TextEmbedder

Vectors = dict[int, Embedded | PipelineFailure]


def _checked(batch: EmbeddingBatch, count: int, what: str) -> EmbeddingBatch:
    if batch.vectors.shape[0] != count:
        raise AnalysisQualityError(f"{batch.vectors.shape[0]} vectors for {count} {what}")
    return batch


def embed_batches(
    embedder: ImageEmbedder, items: Sequence[PipelineInput], batch_size: int
) -> Vectors:
    vectors: Vectors = {}
    for start in range(0, len(items), batch_size):
        batch = items[start : start + batch_size]
        try:
            answer = _checked(
                embedder.embed_images([i.embedder_input for i in batch]), len(batch), "images"
            )
        except Exception as exc:  # noqa: BLE001 - retried one by one to isolate the bad image
            if len(batch) == 1:
                vectors[batch[0].key] = failure_of(batch[0].key, "image embedding", exc)
                continue
            vectors.update(embed_batches(embedder, batch, 1))
            continue
        for item, row in zip(batch, answer.vectors, strict=True):
            try:
                vector = vector_checked(row, dimensions=answer.dimensions, what="image embedding")
                vectors[item.key] = Embedded(answer.model, vector)
            except AnalysisQualityError as exc:
                vectors[item.key] = failure_of(item.key, "image embedding", exc)
    return vectors


def embed_announcing(
    embedder: ImageEmbedder, items: Sequence[PipelineInput], step: int, arrivals: queue.Queue
) -> Vectors:
    """`embed_batches`, putting each sub-batch's vectors on `arrivals` as they are made."""
    vectors: Vectors = {}
    try:
        for start in range(0, len(items), step):
            part = embed_batches(embedder, items[start : start + step], step)
            vectors.update(part)
            arrivals.put(part)
    finally:
        arrivals.put(None)  # the describer never waits for an embedding that will not come
    return vectors


def embed_texts(embedder: TextEmbedder, texts: dict[int, str], *, fresh: bool) -> Vectors:
    """Text vectors by key, from the cache (unless `fresh`) or in one call for the rest."""
    vectors: Vectors = {}
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
        answer = _checked(embedder.embed_texts(list(missing.values())), len(missing), "texts")
        for (key, text), row in zip(missing.items(), answer.vectors, strict=True):
            vector = vector_checked(row, dimensions=answer.dimensions, what="text embedding")
            caching.cache_text_embedding(text=text, model=answer.model, vector=vector)
            vectors[key] = Embedded(answer.model, vector)
    except Exception as exc:  # noqa: BLE001 - every item of the batch records the reason
        for key in missing:
            vectors.setdefault(key, failure_of(key, "text embedding", exc))
    return vectors
