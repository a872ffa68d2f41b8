"""The shared labelled textures, read once per test process for the offline-model tests."""

from __future__ import annotations

import csv
from functools import cache

import numpy as np
import pytest
from PIL import Image

from tests.conftest import SHARED_DATA


@cache
def shared_rows() -> tuple[dict[str, str], ...]:
    labels = SHARED_DATA / "labels.csv"
    if not labels.is_file():
        pytest.fail(f"shared data not found at {SHARED_DATA}")
    with labels.open(newline="", encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


def shared_image(row: dict[str, str]) -> Image.Image:
    with Image.open(SHARED_DATA / row["path"]) as image:
        return image.convert("RGB")


@cache
def shared_embeddings() -> np.ndarray:
    from analysis.providers.offline_image import EfficientNetLite0Embedder

    images = [shared_image(r) for r in shared_rows()]
    return EfficientNetLite0Embedder().embed_images(images).vectors
