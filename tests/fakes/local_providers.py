"""A small, real local embedder for tests of the fallback chain: it computes its answer from
the pixels (no model weights), so a test can tell who answered."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from analysis.providers.protocols import EmbeddingBatch


class PixelEmbedder:
    """A 48-d embedding: the 4×4 RGB thumbnail, L2-normalised. Texts by their letters."""

    model = "test-pixels-48"
    dimensions = 48

    def embed_images(self, images: Sequence[Image.Image]) -> EmbeddingBatch:
        rows = [
            np.asarray(i.convert("RGB").resize((4, 4)), dtype=np.float32).reshape(-1) + 1.0
            for i in images
        ]
        return EmbeddingBatch(_normalised(rows, self.dimensions), self.model, self.dimensions)

    def embed_texts(self, texts: Sequence[str]) -> EmbeddingBatch:
        rows = []
        for text in texts:
            row = np.ones(self.dimensions, dtype=np.float32)
            for char in text.lower():
                row[ord(char) % self.dimensions] += 1.0
            rows.append(row)
        return EmbeddingBatch(_normalised(rows, self.dimensions), self.model, self.dimensions)


def _normalised(rows: list[np.ndarray], dimensions: int) -> np.ndarray:
    if not rows:
        return np.zeros((0, dimensions), dtype=np.float32)
    matrix = np.stack(rows)
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)
