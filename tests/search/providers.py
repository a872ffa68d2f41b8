"""Small real providers for search tests: they compute real vectors and descriptions from
pixels and words (cheap and deterministic), speaking the analysis Protocols. Not mocks: the
search code under test cannot tell them from the offline models, only they are faster."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence

import numpy as np
from PIL import Image

from analysis.colors import color_name, rgb_to_hex, srgb_to_lab
from analysis.description import CATEGORY_OF_TYPE, MaterialDescription
from analysis.providers.protocols import (
    NO_HINTS,
    DescribeHints,
    DescriptionResult,
    EmbeddingBatch,
)

IMAGE_MODEL = "test-histogram"
TEXT_MODEL = "test-words"


class HistogramEmbedder:
    """RGB histogram, 4 bins per channel (64-d), square-rooted and L2-normalised."""

    model = IMAGE_MODEL
    dimensions = 64

    def __init__(self) -> None:
        self.calls = 0

    def embed_images(self, images: Sequence[Image.Image]) -> EmbeddingBatch:
        self.calls += len(images)
        rows = []
        for image in images:
            pixels = np.asarray(image.convert("RGB").resize((32, 32)), dtype=np.int64) // 64
            bins = pixels[..., 0] * 16 + pixels[..., 1] * 4 + pixels[..., 2]
            histogram = np.sqrt(np.bincount(bins.ravel(), minlength=64).astype(np.float32))
            rows.append(histogram / np.linalg.norm(histogram))
        return EmbeddingBatch(np.stack(rows).astype(np.float32), self.model, self.dimensions)


class WordsEmbedder:
    """Bag of words hashed into 64 dimensions, L2-normalised."""

    model = TEXT_MODEL
    dimensions = 64

    def embed_texts(self, texts: Sequence[str]) -> EmbeddingBatch:
        rows = []
        for text in texts:
            vector = np.zeros(64, dtype=np.float32)
            for word in re.findall(r"[a-z]+", text.lower()):
                vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1.0  # noqa: S324 - a hash, not security
            norm = np.linalg.norm(vector)
            rows.append(vector / norm if norm else vector)
        return EmbeddingBatch(np.stack(rows), self.model, self.dimensions)


def describe_color(
    rgb: tuple[int, int, int],
    *,
    material_type: str = "other",
    finish: str = "matte",
    pattern: str = "solid",
    confidence: float = 0.9,
) -> MaterialDescription:
    lab = [round(float(v), 2) for v in srgb_to_lab(np.array(rgb, dtype=float))]
    name = color_name(tuple(lab))
    return MaterialDescription.model_validate(
        {
            "material_type": material_type,
            "category": CATEGORY_OF_TYPE[material_type],
            "colors": [{"name": name, "hex": rgb_to_hex(rgb), "lab": lab, "share": 1.0}],
            "lightness": lab[0],
            "texture": {"scale": "fine", "regularity": 0.5, "direction": "none", "contrast": 0.3},
            "finish": finish,
            "pattern": pattern,
            "properties": [],
            "confidence": {"overall": confidence, "material_type": confidence},
            "summary": f"A {name} {material_type} surface with a {finish} finish.",
        }
    )


class MeanColorDescriber:
    """Describes an image by its median colour; the material type from `types_by_color`
    (palette name → type). `gate`, when given, holds every answer until it is set."""

    model_id = "test-mean-color"
    source = "offline"
    prompt_version = "1"
    embedding_model = None

    def __init__(
        self, types_by_color: dict[str, str] | None = None, gate: threading.Event | None = None
    ) -> None:
        self.types_by_color = types_by_color or {}
        self.gate = gate
        self.calls = 0

    def prompt_version_for(self, depth: str) -> str:
        return self.prompt_version  # one prompt at every depth

    def describe(self, image: Image.Image, *, hints: DescribeHints = NO_HINTS) -> DescriptionResult:
        self.calls += 1
        if self.gate is not None and not self.gate.wait(timeout=30):
            raise TimeoutError("test gate never opened")
        pixels = np.asarray(image.convert("RGB"), dtype=np.float64).reshape(-1, 3)
        rgb = tuple(int(v) for v in np.median(pixels, axis=0))
        lab = tuple(float(v) for v in srgb_to_lab(np.array(rgb)))
        material_type = self.types_by_color.get(color_name(lab), "other")
        return DescriptionResult(
            description=describe_color(rgb, material_type=material_type),
            source=self.source,
            model_id=self.model_id,
            prompt_version=self.prompt_version,
        )
