"""What the pipeline and the search keep in the cache: image/text embeddings and descriptions.

Keys never hold user data in clear: every part (image hash, query text, model name, prompt
version) goes through SHA-256 first, so a cache dump reveals neither queries nor models.
Django adds the deployment's `SWATCH_CACHE_PREFIX` in front of each key.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache

from analysis.description import SCHEMA_VERSION, DescriptionInvalid, description_parse
from analysis.metrics import cache_lookup
from analysis.providers.protocols import DescriptionResult, Usage

logger = logging.getLogger("swatch.analysis.cache")


def _digest(*parts: str) -> str:
    # A separator that cannot occur in a hex hash or a model name keeps ("ab","c") ≠ ("a","bc").
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def image_embedding_key(*, sha256: str, model: str) -> str:
    return f"emb:img:{_digest(sha256, model)}"


def text_embedding_key(*, text: str, model: str) -> str:
    return f"emb:txt:{_digest(text, model)}"


def description_key(*, sha256: str, model_id: str, prompt_version: str) -> str:
    # The schema version is part of the key: a new schema never reads an old description.
    return f"ana:{_digest(sha256, model_id, prompt_version, SCHEMA_VERSION)}"


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _vector_pack(vector: np.ndarray) -> dict[str, Any]:
    array = np.asarray(vector, dtype=np.float32).reshape(-1)
    return {"d": int(array.shape[0]), "v": array.tobytes()}


def _vector_unpack(value: Any, dimensions: int) -> np.ndarray | None:
    if not isinstance(value, dict) or value.get("d") != dimensions:
        return None
    raw = value.get("v")
    if not isinstance(raw, bytes) or len(raw) != 4 * dimensions:
        return None
    return np.frombuffer(raw, dtype=np.float32).copy()


def _cached_vector(key: str, *, kind: str, dimensions: int) -> np.ndarray | None:
    hit = _vector_unpack(cache.get(key), dimensions)
    cache_lookup(kind, hit is not None)
    return hit


def _cache_vector(key: str, vector: np.ndarray) -> None:
    cache.set(key, _vector_pack(vector), timeout=settings.SWATCH["EMBEDDING_CACHE_TTL"])


def cached_image_embedding(*, sha256: str, model: str, dimensions: int) -> np.ndarray | None:
    key = image_embedding_key(sha256=sha256, model=model)
    return _cached_vector(key, kind="image_embedding", dimensions=dimensions)


def cache_image_embedding(*, sha256: str, model: str, vector: np.ndarray) -> None:
    _cache_vector(image_embedding_key(sha256=sha256, model=model), vector)


def cached_text_embedding(*, text: str, model: str, dimensions: int) -> np.ndarray | None:
    key = text_embedding_key(text=text, model=model)
    return _cached_vector(key, kind="text_embedding", dimensions=dimensions)


def cache_text_embedding(*, text: str, model: str, vector: np.ndarray) -> None:
    _cache_vector(text_embedding_key(text=text, model=model), vector)


def cached_description(
    *, sha256: str, model_id: str, prompt_version: str
) -> DescriptionResult | None:
    value = cache.get(
        description_key(sha256=sha256, model_id=model_id, prompt_version=prompt_version)
    )
    if not isinstance(value, dict):
        cache_lookup("description", False)
        return None
    try:
        description = description_parse(value.get("description"))
    except DescriptionInvalid as exc:
        # An entry that no longer validates is ignored, never served.
        logger.warning("ignoring a cached description that does not validate: %s", exc)
        cache_lookup("description", False)
        return None
    cache_lookup("description", True)
    return DescriptionResult(
        description=description,
        source=str(value.get("source", "")),
        model_id=model_id,
        prompt_version=prompt_version,
        usage=Usage(),  # a cached answer costs no tokens
        depth=str(value.get("depth") or "detailed"),
        depth_note=str(value.get("depth_note") or ""),
    )


def cache_description(*, sha256: str, result: DescriptionResult) -> None:
    """Keep a description under the model and prompt that actually produced it.

    A fallback's answer (offline analyser standing in for the vision model) is filed under the
    fallback's id, so it is never served as if the vision model had said it.
    """
    cache.set(
        description_key(
            sha256=sha256, model_id=result.model_id, prompt_version=result.prompt_version
        ),
        {
            "description": result.description.model_dump(mode="json"),
            "source": result.source,
            "depth": result.depth,
            "depth_note": result.depth_note,
        },
        timeout=settings.SWATCH["ANALYSIS_CACHE_TTL"],
    )
