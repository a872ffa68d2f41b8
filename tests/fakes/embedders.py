"""Small real image embedders for the registry tests (named models the registry can build
from a dotted path): one that sees nothing of the image, and one
that waits at a gate so a test can stop a run in the middle, by state, not by time."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from analysis.providers.offline_image import EfficientNetLite0PooledEmbedder
from analysis.providers.protocols import EmbeddingBatch, embedding_batch


class PixelHashEmbedder:
    """Each image as a pseudo-random unit vector seeded by the hash of its pixels: a real,
    deterministic model that carries nothing of what the image looks like (chance level)."""

    model = "pixel-hash"
    dimensions = 32

    def embed_images(self, images: Sequence[Image.Image]) -> EmbeddingBatch:
        rows = []
        for image in images:
            seed = int(hashlib.sha256(image.convert("RGB").tobytes()).hexdigest()[:8], 16)
            rows.append(np.random.default_rng(seed).normal(size=self.dimensions))
        vectors = np.asarray(rows, dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return embedding_batch(vectors, model=self.model, dimensions=self.dimensions)


class GatedPooledEmbedder(EfficientNetLite0PooledEmbedder):
    """The pooled model that, after `open_batches` batches, writes `reached` and waits until
    the file `gate` exists (a test then signals the process that runs it)."""

    def __init__(self, *, gate: str, reached: str, open_batches: int = 1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.gate, self.reached = Path(gate), Path(reached)
        self.open_batches = open_batches
        self.calls = 0

    def embed_images(self, images: Sequence[Image.Image]) -> EmbeddingBatch:
        self.calls += 1
        if self.calls > self.open_batches:
            self.reached.touch()
            while not self.gate.exists():
                time.sleep(0.05)
        return super().embed_images(images)
