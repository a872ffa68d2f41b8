"""Encoding a search query, cached: the search app's way into the models.

Query images are never stored: only their sha256 and what the models made of them are kept,
in the cache, under hashed keys (see `analysis.caching`).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from analysis import caching
from analysis.pipeline import description_status, vector_checked
from analysis.providers.protocols import (
    DescribeHints,
    DescriptionResult,
    EmbeddingBatch,
    ImageDescriber,
    ImageEmbedder,
    ProviderError,
    TextEmbedder,
)
from materials.intake import embedding_input


def _factory():
    from analysis.providers import factory  # built lazily: weights load on first use

    return factory


def _query_vector(
    batch: EmbeddingBatch, *, embedder: ImageEmbedder | TextEmbedder, what: str
) -> np.ndarray:
    """The batch's one vector, checked (finite, the embedder's dimensions), if it is in the
    space the catalog is searched in (`embedder.model`): a fallback's vector of another model
    would be compared with vectors it cannot be compared with."""
    if batch.model != embedder.model:
        raise ProviderError(
            f"the query {what} could only be embedded by {batch.model}, the catalog is "
            f"searched with {embedder.model}",
            retryable=True,
            code="unavailable",
        )
    return vector_checked(
        batch.vectors[0], dimensions=embedder.dimensions, what=f"{what} embedding"
    )


def query_image_embedding(
    *, pixels: Image.Image, sha256: str, embedder: ImageEmbedder | None = None
) -> np.ndarray:
    """The image's embedding (1-d, L2-normalised), cached by (sha256, model) for 24 h; made
    from `embedding_input(pixels)`, as a catalog image's is."""
    embedder = embedder or _factory().get_image_embedder()
    hit = caching.cached_image_embedding(
        sha256=sha256, model=embedder.model, dimensions=embedder.dimensions
    )
    if hit is not None:
        return hit
    batch = embedder.embed_images([embedding_input(pixels)])
    vector = _query_vector(batch, embedder=embedder, what="image")
    caching.cache_image_embedding(sha256=sha256, model=embedder.model, vector=vector)
    return vector


def query_image_description(
    *, pixels: Image.Image, sha256: str, describer: ImageDescriber | None = None
) -> DescriptionResult:
    """The image's description, cached by (sha256, model id, prompt version) for 7 days.

    Raises `ProviderError`, `DescriptionInvalid` or `AnalysisQualityError` (nothing cached then).
    """
    describer = describer or _factory().get_describer()
    hit = caching.cached_description(
        sha256=sha256,
        model_id=describer.model_id,
        prompt_version=describer.prompt_version,
    )
    if hit is not None:
        return hit
    result = describer.describe(pixels, hints=DescribeHints(image_sha256=sha256))
    description_status(result)  # the same quality check as ingestion, before it is cached
    caching.cache_description(sha256=sha256, result=result)
    return result


def query_text_embedding(*, text: str, embedder: TextEmbedder | None = None) -> np.ndarray:
    """The text's embedding (1-d, L2-normalised), cached by a hash of (text, model) for 24 h."""
    embedder = embedder or _factory().get_text_embedder()
    hit = caching.cached_text_embedding(
        text=text, model=embedder.model, dimensions=embedder.dimensions
    )
    if hit is not None:
        return hit
    batch = embedder.embed_texts([text])
    vector = _query_vector(batch, embedder=embedder, what="text")
    caching.cache_text_embedding(text=text, model=embedder.model, vector=vector)
    return vector
