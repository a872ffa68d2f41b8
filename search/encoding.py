"""Query encoding, through the analysis app's cached query helpers (`analysis.query`): image
and text vectors and the query image's description, cached by the hash of what was encoded,
never the image itself."""

from __future__ import annotations

import numpy as np
from PIL import Image

from analysis import caching
from analysis.providers.protocols import ImageDescriber, ImageEmbedder, TextEmbedder
from analysis.query import query_image_description, query_image_embedding, query_text_embedding
from analysis.vectors import l2_normalise


def away(
    vector: np.ndarray | None, negatives: list[np.ndarray | None], weight: float
) -> np.ndarray | None:
    """Move a query vector away from negative examples: q − w·n, renormalised."""
    if vector is None:
        return None
    for negative in negatives:
        if negative is not None and negative.shape == vector.shape:
            vector = vector - weight * negative
    return unit(vector)


def unit(vector: np.ndarray) -> np.ndarray:
    return l2_normalise(np.asarray(vector, dtype=np.float32).reshape(-1))


def query_image_vector(*, pixels: Image.Image, sha256: str, embedder: ImageEmbedder) -> np.ndarray:
    return unit(query_image_embedding(pixels=pixels, sha256=sha256, embedder=embedder))


def query_text_vector(*, text: str, embedder: TextEmbedder) -> np.ndarray:
    return unit(query_text_embedding(text=text, embedder=embedder))


def cached_query_description(*, sha256: str, describer: ImageDescriber) -> tuple[dict, str] | None:
    """The description of an image analysed before, and its `depth_note`, without calling
    the describer."""
    hit = caching.cached_description(
        sha256=sha256,
        model_id=describer.model_id,
        prompt_version=describer.prompt_version,
    )
    return None if hit is None else (hit.description.model_dump(mode="json"), hit.depth_note)


def query_description(
    *, pixels: Image.Image, sha256: str, describer: ImageDescriber
) -> tuple[dict, str]:
    """The describer's description of a query image (slow: a model call), cached by hash, and
    what it could not do at the depth asked (`depth_note`)."""
    description, _, note = query_description_answer(
        pixels=pixels, sha256=sha256, describer=describer
    )
    return description, note


def query_description_answer(
    *, pixels: Image.Image, sha256: str, describer: ImageDescriber
) -> tuple[dict, str, str]:
    """The description, why a fallback gave it ("budget": the model was over a limit or
    its money budget, and the offline analyser answered at once; "" otherwise), and what it
    could not do at the depth asked ("" when nothing)."""
    result = query_image_description(pixels=pixels, sha256=sha256, describer=describer)
    return result.description.model_dump(mode="json"), result.fallback, result.depth_note
