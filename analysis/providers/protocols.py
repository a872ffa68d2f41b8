"""One Protocol per model capability. Concrete providers live one per module beside this one;
`analysis.providers.factory` picks them from settings. Services take a provider argument."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image

from analysis.description import MaterialDescription


class ProviderError(Exception):
    """A provider could not answer (network, timeout, bad output…). `retryable` says whether
    trying again later may help; the fallback chain moves on either way."""

    def __init__(self, message: str, *, retryable: bool = True, code: str = "provider_error"):
        super().__init__(message)
        self.retryable = retryable
        self.code = code


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class DescriptionResult:
    description: MaterialDescription
    source: str  # AnalysisSource value: "model" or "offline"
    model_id: str
    prompt_version: str
    usage: Usage = field(default_factory=Usage)


@runtime_checkable
class ImageDescriber(Protocol):
    """Says what material an image shows, as a validated `MaterialDescription`."""

    model_id: str
    source: str

    def describe(self, image: Image.Image) -> DescriptionResult: ...


@runtime_checkable
class ImageEmbedder(Protocol):
    """Maps RGB images to L2-normalised vectors, shape (n, dimensions), float32."""

    model: str
    dimensions: int

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray: ...


@runtime_checkable
class TextEmbedder(Protocol):
    """Maps texts to L2-normalised vectors, shape (n, dimensions), float32. A text embedder
    whose `model` equals the image embedder's shares its space (CLIP): text→image search."""

    model: str
    dimensions: int

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray: ...
