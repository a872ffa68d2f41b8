"""L2 normalisation of embedding vectors: the one place for it (embedders, the quality check of
a stored vector, the search's query vectors)."""

from __future__ import annotations

import numpy as np

_TINY = 1e-12  # a zero vector stays zero instead of becoming NaN


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Each vector along the last axis scaled to unit length, as float32 (one vector or a
    batch of them)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, _TINY)).astype(np.float32)
