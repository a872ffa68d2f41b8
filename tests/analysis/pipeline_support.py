"""Small real providers for the pipeline tests, and counting wrappers around providers.

They implement the Protocols with real (if simple) computations on the pixels, so the
pipeline's writes, caching and state machine are tested without model weights. The offline
and remote providers have tests of their own.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from django.conf import settings
from PIL import Image

from analysis.colors import color_name, rgb_to_hex, srgb_to_lab
from analysis.description import description_parse
from analysis.pipeline import PipelineProviders
from analysis.providers.protocols import (
    NO_HINTS,
    DescribeHints,
    DescriptionResult,
    EmbeddingBatch,
    ProviderError,
)


class PixelStatsDescriber:
    """Describes what the pixels say: mean colour, lightness, contrast; a fixed material type
    with a fixed confidence (the knob the tests turn)."""

    source = "offline"
    embedding_model = None

    def __init__(
        self, *, material_type: str = "stone", confidence: float = 0.9, model_id: str = "px-1"
    ):
        self.material_type = material_type
        self.confidence = confidence
        self.model_id = model_id
        self.prompt_version = "t1"

    def prompt_version_for(self, depth: str) -> str:
        return self.prompt_version  # one prompt at every depth

    def describe(self, image: Image.Image, *, hints: DescribeHints = NO_HINTS) -> DescriptionResult:
        rgb = np.asarray(image.convert("RGB"), dtype=np.float64).reshape(-1, 3)
        mean = rgb.mean(axis=0)
        lab = [round(float(v), 2) for v in srgb_to_lab(mean)]
        lightness = srgb_to_lab(rgb[:: max(1, len(rgb) // 2000)])[..., 0]
        raw = {
            "material_type": self.material_type,
            "colors": [
                {"name": color_name(tuple(lab)), "hex": rgb_to_hex(mean), "lab": lab, "share": 1}
            ],
            "lightness": lab[0],
            "texture": {"regularity": 0.5, "contrast": min(1.0, float(lightness.std()) / 50)},
            "finish": "matte",
            "pattern": "mottled",
            "confidence": {"overall": self.confidence, "material_type": self.confidence},
            "summary": f"A {color_name(tuple(lab))} surface.",
        }
        return DescriptionResult(
            description=description_parse(raw),
            source=self.source,
            model_id=self.model_id,
            prompt_version=self.prompt_version,
        )


class RgbHistogramEmbedder:
    """A 4×4×4 RGB histogram, L2-normalised: 64-d."""

    model = "rgb-hist-64"
    dimensions = 64

    def embed_images(self, images: Sequence[Image.Image]) -> EmbeddingBatch:
        rows = []
        for image in images:
            rgb = np.asarray(image.convert("RGB").resize((64, 64))).reshape(-1, 3) // 64
            codes = rgb[:, 0] * 16 + rgb[:, 1] * 4 + rgb[:, 2]
            hist = np.bincount(codes, minlength=64).astype(np.float32)
            rows.append(hist / np.linalg.norm(hist))
        return EmbeddingBatch(np.stack(rows), self.model, self.dimensions)


class HashingTextEmbedder:
    """Bag of words hashed into 32 buckets, L2-normalised."""

    model = "hash-text-32"
    dimensions = 32

    def embed_texts(self, texts: Sequence[str]) -> EmbeddingBatch:
        rows = []
        for text in texts:
            row = np.zeros(self.dimensions, dtype=np.float32)
            for word in text.lower().split():
                row[sum(word.encode()) % self.dimensions] += 1.0
            rows.append(row / max(np.linalg.norm(row), 1e-9))
        return EmbeddingBatch(np.stack(rows), self.model, self.dimensions)


class CountingDescriber:
    """A real describer, with a count of the calls that reached it."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.source = inner.source
        self.prompt_version = inner.prompt_version
        self.embedding_model = inner.embedding_model
        self.calls = 0
        self._lock = threading.Lock()

    def prompt_version_for(self, depth: str) -> str:
        return self.inner.prompt_version_for(depth)

    def describe(self, image: Image.Image, *, hints: DescribeHints = NO_HINTS) -> DescriptionResult:
        with self._lock:
            self.calls += 1
        return self.inner.describe(image, hints=hints)


class CountingImageEmbedder:
    def __init__(self, inner) -> None:
        self.inner = inner
        self.model = inner.model
        self.dimensions = inner.dimensions
        self.calls = 0
        self.images = 0

    def embed_images(self, images: Sequence[Image.Image]) -> EmbeddingBatch:
        self.calls += 1
        self.images += len(images)
        return self.inner.embed_images(images)


class CountingTextEmbedder:
    def __init__(self, inner) -> None:
        self.inner = inner
        self.model = inner.model
        self.dimensions = inner.dimensions
        self.calls = 0

    def embed_texts(self, texts: Sequence[str]) -> EmbeddingBatch:
        self.calls += 1
        return self.inner.embed_texts(texts)


# What `counting_providers` hands out; a test puts fresh counters here and reads them back.
COUNTED: dict[str, PipelineProviders] = {}


def counting_providers() -> PipelineProviders:
    """`SWATCH_PIPELINE_PROVIDERS` for in-process task deliveries that count model calls."""
    return COUNTED["providers"]


def counted(describer=None) -> PipelineProviders:
    COUNTED["providers"] = make_providers(
        describer=CountingDescriber(describer or PixelStatsDescriber()),
        image_embedder=CountingImageEmbedder(RgbHistogramEmbedder()),
        text_embedder=CountingTextEmbedder(HashingTextEmbedder()),
    )
    return COUNTED["providers"]


class UnavailableDescriber:
    """Stands for a provider outage that the whole fallback chain could not absorb (the HTTP
    failure modes themselves are tested with the remote providers, over real HTTP)."""

    model_id = "px-1"
    source = "model"
    prompt_version = "t1"
    embedding_model = None

    def __init__(self, *, retryable: bool = True) -> None:
        self.retryable = retryable

    def prompt_version_for(self, depth: str) -> str:
        return self.prompt_version  # one prompt at every depth

    def describe(self, image: Image.Image, *, hints: DescribeHints = NO_HINTS) -> DescriptionResult:
        raise ProviderError("upstream answered 503", retryable=self.retryable, code="unavailable")


def make_providers(describer=None, image_embedder=None, text_embedder=None) -> PipelineProviders:
    return PipelineProviders(
        describer=describer or PixelStatsDescriber(),
        image_embedder=image_embedder or RgbHistogramEmbedder(),
        text_embedder=text_embedder or HashingTextEmbedder(),
    )


# --- a describer a worker process blocks in, for the killed-worker test -------------------
def gate_dir() -> Path:
    """Per test database, so parallel test runs never share gates."""
    name = settings.DATABASES["default"]["NAME"]
    path = Path(tempfile.gettempdir()) / f"swatch-gate-{name}"
    path.mkdir(exist_ok=True)
    return path


class GatedDescriber(PixelStatsDescriber):
    """Logs each call to a file, then waits until the test opens the gate (a file appears)."""

    def describe(self, image: Image.Image, *, hints: DescribeHints = NO_HINTS) -> DescriptionResult:
        gates = gate_dir()
        with (gates / "calls.log").open("a") as log:
            log.write("started\n")
        deadline = time.monotonic() + 120
        while not (gates / "open").exists():
            if time.monotonic() > deadline:
                raise ProviderError("gate never opened", retryable=False, code="test_gate")
            time.sleep(0.05)
        result = super().describe(image, hints=hints)
        with (gates / "calls.log").open("a") as log:
            log.write("finished\n")
        return result


def gated_providers() -> PipelineProviders:
    """`SWATCH_PIPELINE_PROVIDERS` of the worker subprocess in the killed-worker test."""
    return make_providers(describer=GatedDescriber())


def store_images(shared_data: Path, count: int, *, catalog: str = "textures", skip: int = 0):
    """Real textures from shared/data, stored through intake like any catalog image."""
    from materials.services import catalog_get_or_create, material_create_with_image

    target = catalog_get_or_create(name=catalog)
    files = sorted((shared_data / "images").rglob("*.png"))[skip : skip + count]
    return [
        material_create_with_image(
            catalog=target, data=path.read_bytes(), name=path.stem, category=path.parent.name
        ).image
        for path in files
    ]


def pending_analyses(images) -> list[int]:
    from analysis.services import analysis_targets_prepare

    return analysis_targets_prepare(images=[image.pk for image in images])
