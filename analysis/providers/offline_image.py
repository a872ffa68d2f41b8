"""EfficientNet-Lite0 image embeddings with onnxruntime (the offline default; no torch).

The graph (`analysis/weights/efficientnet_lite0.onnx`, made by `manage.py export_onnx`) returns
the head's global average pool joined with four mid-level stage pools, L2-normalised:
`IMAGE_DIMENSIONS` floats. Images are embedded in batches of `SWATCH_OFFLINE_BATCH`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from analysis.offline import weights as w
from analysis.offline.preprocess import image_tensor
from analysis.offline.session import LazySession
from analysis.providers.protocols import EmbeddingBatch, ProviderError, embedding_batch
from analysis.vectors import l2_normalise


class EfficientNetLite0Embedder:
    model = w.IMAGE_MODEL
    dimensions = w.IMAGE_DIMENSIONS
    output = w.IMAGE_OUTPUT

    def __init__(
        self,
        graph_path: Path | str | None = None,
        *,
        intra_op_threads: int | None = None,
        batch_size: int | None = None,
    ) -> None:
        self.graph_path = Path(graph_path) if graph_path else w.weights_path(w.IMAGE_GRAPH)
        threads = (
            intra_op_threads if intra_op_threads is not None else w.offline_setting("THREADS", 2)
        )
        self.batch_size = max(1, batch_size or w.offline_setting("BATCH", 8))
        self._session = LazySession(self.graph_path, intra_op_threads=threads)

    def embed_images(self, images: Sequence[Image.Image]) -> EmbeddingBatch:
        if not images:
            return embedding_batch([], model=self.model, dimensions=self.dimensions)
        chunks = []
        for start in range(0, len(images), self.batch_size):
            batch = images[start : start + self.batch_size]
            try:
                pixels = image_tensor(batch)
            except OSError as exc:  # a truncated or unreadable image reaches decoding here
                raise ProviderError(
                    f"cannot read image: {exc}", retryable=False, code="bad_image"
                ) from exc
            chunks.append(self._session.run(self.output, {w.IMAGE_INPUT: pixels}))
        vectors = np.concatenate(chunks)
        if vectors.shape[1] != self.dimensions:
            raise ProviderError(
                f"{self.graph_path.name} returns {vectors.shape[1]}-d vectors, "
                f"expected {self.dimensions}",
                retryable=False,
                code="model_invalid",
            )
        return embedding_batch(l2_normalise(vectors), model=self.model, dimensions=self.dimensions)


class EfficientNetLite0PooledEmbedder(EfficientNetLite0Embedder):
    """The same graph's other output: the head's 1280-d global average pool alone (the
    embedding before the stage pools were joined to it). Another model, for the registry:
    its vectors live beside the default's under their own name and index."""

    model = "efficientnet-lite0-pooled"
    dimensions = w.IMAGE_POOLED_DIMENSIONS
    output = w.IMAGE_POOLED_OUTPUT
