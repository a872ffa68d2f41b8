"""CLIP embeddings from a remote HTTP endpoint.

Wire format (OpenAI `/embeddings` style, so an OpenAI-compatible embedding server — e.g. a
small FastAPI/Triton front of CLIP, or LiteLLM — can serve it):

    POST {base_url}/embeddings
    {"model": "clip-vit-b-32", "input": ["a text", "data:image/jpeg;base64,…"],
     "encoding_format": "float"}

    200 {"object": "list", "model": "…",
         "data": [{"object": "embedding", "index": 0, "embedding": [512 floats]}, …],
         "usage": {"prompt_tokens": 7, "total_tokens": 7}}

An `input` item is text, or an image as a JPEG data URL (the server tells them apart by the
`data:image/` prefix); one request holds one kind. The answer must have one finite vector of
the expected dimensions per input (matched by `index`); vectors are L2-normalised here in
case the server does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from analysis.http import ProviderSession, provider_session
from analysis.providers.openai_vision import image_data_url
from analysis.providers.protocols import EmbeddingBatch, ProviderError, embedding_batch

CLIP_MODEL = "clip-vit-b-32"
CLIP_DIMENSIONS = 512
# CLIP ViT-B/32 sees 224 px; a little more leaves the server its own crop.
CLIP_IMAGE_SIDE = 256


class RemoteClipEmbedder:
    """`ImageEmbedder` and `TextEmbedder` over the wire format above."""

    def __init__(
        self,
        *,
        base_url: str,
        session: ProviderSession,
        remote_model: str = CLIP_MODEL,
        model: str = CLIP_MODEL,
        dimensions: int = CLIP_DIMENSIONS,
        batch_size: int = 16,
    ) -> None:
        self.url = base_url.rstrip("/") + "/embeddings"
        self.session = session
        self.remote_model = remote_model
        self.model = model
        self.dimensions = dimensions
        self.batch_size = max(batch_size, 1)

    def _embed(self, inputs: list[str]) -> EmbeddingBatch:
        vectors = [
            self._batch(inputs[start : start + self.batch_size])
            for start in range(0, len(inputs), self.batch_size)
        ]
        matrix = np.concatenate(vectors) if vectors else []
        return embedding_batch(matrix, model=self.model, dimensions=self.dimensions)

    def _batch(self, inputs: list[str]) -> np.ndarray:
        payload = {"model": self.remote_model, "input": inputs, "encoding_format": "float"}
        data = self.session.post_json(self.url, payload).data
        rows = data.get("data") if isinstance(data, dict) else None
        if not isinstance(rows, list) or len(rows) != len(inputs):
            raise ProviderError(
                f"{self.session.provider}: expected {len(inputs)} embeddings, got "
                f"{len(rows) if isinstance(rows, list) else 'none'}",
                retryable=False,
                code="bad_response",
            )
        ordered = sorted(rows, key=_index)
        try:
            matrix = np.asarray([row["embedding"] for row in ordered], dtype=np.float32)
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError(
                f"{self.session.provider}: malformed embeddings ({exc.__class__.__name__})",
                retryable=False,
                code="bad_response",
            ) from exc
        if matrix.ndim != 2 or matrix.shape[1] != self.dimensions:
            raise ProviderError(
                f"{self.session.provider}: embeddings of shape {matrix.shape}, expected "
                f"(n, {self.dimensions})",
                retryable=False,
                code="bad_response",
            )
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        if not np.isfinite(matrix).all() or (norms == 0).any():
            raise ProviderError(
                f"{self.session.provider}: non-finite or zero embedding",
                retryable=False,
                code="bad_response",
            )
        return (matrix / norms).astype(np.float32)

    def embed_images(self, images: Sequence[Image.Image]) -> EmbeddingBatch:
        return self._embed([image_data_url(i, max_side=CLIP_IMAGE_SIDE) for i in images])

    def embed_texts(self, texts: Sequence[str]) -> EmbeddingBatch:
        return self._embed([str(t) for t in texts])


def _index(row: Any) -> int:
    if isinstance(row, dict) and isinstance(row.get("index"), int):
        return row["index"]
    return 0


def remote_clip_embedder(
    *,
    base_url: str,
    remote_model: str,
    model: str,
    api_key: str | None,
    timeout: tuple[float, float],
) -> RemoteClipEmbedder:
    """The embedder of a chain entry (`SWATCH_PROVIDERS["CHAINS"]`): its own HTTP session."""
    return RemoteClipEmbedder(
        base_url=base_url,
        remote_model=remote_model,
        model=model,
        session=provider_session("clip-remote", timeout=timeout, api_key=api_key),
    )
