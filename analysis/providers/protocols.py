"""One Protocol per model capability: every method, keyword and attribute the pipeline and
the search use is declared here, and nothing else is looked for. Concrete providers live one
per module beside this one; `analysis.providers.factory` builds their chains from settings.

- `ImageDescriber.describe(image, *, hints)` → `DescriptionResult`. `hints` carry what the
  caller knows: the image's file hash (for the ledger) and the pipeline's own embedding of the
  image, which a describer whose `embedding_model` is that model uses instead of embedding
  the image again.
- `ImageEmbedder.embed_images(images)` / `TextEmbedder.embed_texts(texts)` → `EmbeddingBatch`:
  the vectors with the name and dimensions of the model that made them, which a fallback
  chain may have had to change (a vector means something only with its model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image

from analysis.description import MaterialDescription


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


class ProviderError(Exception):
    """A provider could not answer (network, timeout, bad output…). `retryable` says whether
    trying again later may help; the fallback chain moves on either way. `usage`: what the
    failed call was billed for all the same (an answer that did not validate was paid for)."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = True,
        code: str = "provider_error",
        usage: Usage | None = None,
    ):
        super().__init__(message)
        self.retryable = retryable
        self.code = code
        self.usage = usage or Usage()


@dataclass(frozen=True)
class DescriptionResult:
    description: MaterialDescription
    source: str  # AnalysisSource value: "model" or "offline"
    model_id: str
    prompt_version: str
    usage: Usage = field(default_factory=Usage)
    # Why a fallback answered: "budget" when the primary was over a limit or money budget.
    fallback: str = ""
    depth: str = "detailed"  # analysis.depth: basic | detailed | comprehensive
    depth_note: str = ""  # where the answer could not honour the depth asked for


@dataclass(frozen=True)
class EmbeddingBatch:
    """Vectors, shape (n, dimensions), float32, L2-normalised, made by `model`. `provider`:
    the link of a chain that answered ("" for a provider called directly)."""

    vectors: np.ndarray
    model: str
    dimensions: int
    provider: str = ""


@dataclass(frozen=True)
class DescribeHints:
    """What the caller of `describe` knows about the image besides its pixels."""

    image_sha256: str = ""  # the file's hash, for the ledger ("": a hash of the pixels)
    embedding: np.ndarray | None = None  # this image's vector, made by `embedding_model`
    embedding_model: str = ""
    depth: str = "detailed"  # how much to ask the model (`analysis.depth`)


NO_HINTS = DescribeHints()


@runtime_checkable
class ImageDescriber(Protocol):
    """Says what material an image shows, as a validated `MaterialDescription`.

    `model_id` and `prompt_version` name the answer the describer gives when all is well (the
    description cache is keyed by them). `embedding_model`: the image-embedding model whose
    vector (`hints.embedding`) the describer can use instead of embedding the image itself, or
    None; the pipeline then describes each image once its embedding is there.
    """

    model_id: str
    source: str
    prompt_version: str
    embedding_model: str | None

    def describe(
        self, image: Image.Image, *, hints: DescribeHints = NO_HINTS
    ) -> DescriptionResult: ...

    def prompt_version_for(self, depth: str) -> str:
        """The prompt version of the answer at `depth` (`analysis.depth`; a cache key's part):
        `prompt_version` for a describer that answers alike at every depth."""
        ...


@runtime_checkable
class ImageEmbedder(Protocol):
    """Maps RGB images to an `EmbeddingBatch`; `model` and `dimensions` name the vectors it
    gives when all is well."""

    model: str
    dimensions: int

    def embed_images(self, images: Sequence[Image.Image]) -> EmbeddingBatch: ...


@runtime_checkable
class TextEmbedder(Protocol):
    """Maps texts to an `EmbeddingBatch`. A text embedder whose `model` equals the image
    embedder's shares its space (CLIP): text→image search."""

    model: str
    dimensions: int

    def embed_texts(self, texts: Sequence[str]) -> EmbeddingBatch: ...


def embedding_batch(vectors: np.ndarray, *, model: str, dimensions: int) -> EmbeddingBatch:
    """A batch from a provider's matrix; an empty input gives a (0, dimensions) batch."""
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.size == 0:
        matrix = np.zeros((0, dimensions), dtype=np.float32)
    return EmbeddingBatch(vectors=matrix, model=model, dimensions=dimensions)
