"""Does the query look like a material at all? (a person, an object, a drawing, a solid
colour or noise does not).

Two kinds of signal, both cheap and both computed while the query's pixels are in memory:
- how close the query's image vector comes to the catalog: the cosine of its nearest and the
  mean of its five nearest catalog images (a material photo has near neighbours in a
  material catalog; a portrait does not);
- simple image statistics that materials share: some contrast (not a solid colour), little
  flat area (not a drawing), and structure rather than per-pixel noise.

A logistic model over these, fitted on catalog images (leave-group-out neighbours) against
synthetic non-materials (`search.relevance.negatives`), gives P(material); see
docs/ARCHITECTURE.md, Relevance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

STATS_SIDE = 128
NEIGHBOURS = 5
FEATURES = (
    "nearest",
    "nearest_mean",
    "log_contrast",
    "flat_share",
    "noise_ratio",
    "colourfulness",
)


def image_statistics(image: Image.Image) -> dict[str, float]:
    """Contrast, flat area, noisiness and colourfulness of the image at 128 px."""
    small = image.convert("RGB")
    small.thumbnail((STATS_SIDE, STATS_SIDE), Image.Resampling.BILINEAR)
    rgb = np.asarray(small, dtype=np.float64) / 255.0
    gray = rgb @ np.array([0.299, 0.587, 0.114])
    std = float(gray.std())
    if min(gray.shape) < 3:
        return {"log_contrast": float(np.log(std + 1e-3)), "flat_share": 1.0,
                "noise_ratio": 0.0, "colourfulness": 0.0}  # fmt: skip
    dx, dy = np.abs(np.diff(gray, axis=1)), np.abs(np.diff(gray, axis=0))
    gradient = (dx[:-1, :] + dy[:, :-1]) / 2
    flat = float((gradient < 2.0 / 255).mean())
    laplacian = np.abs(
        4 * gray[1:-1, 1:-1] - gray[:-2, 1:-1] - gray[2:, 1:-1] - gray[1:-1, :-2] - gray[1:-1, 2:]
    )
    noise = float(laplacian.mean() / (std + 1e-3))
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    rg, yb = r - g, (r + g) / 2 - b
    colourful = float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
    return {
        "log_contrast": float(np.log(std + 1e-3)),
        "flat_share": flat,
        "noise_ratio": float(np.log1p(noise)),
        "colourfulness": colourful,
    }


def neighbour_features(similarities: Sequence[float]) -> dict[str, float]:
    """From the query's cosines to its nearest catalog images, best first."""
    best = sorted((float(s) for s in similarities), reverse=True)[:NEIGHBOURS]
    if not best:
        return {"nearest": 0.0, "nearest_mean": 0.0}
    return {"nearest": best[0], "nearest_mean": float(np.mean(best))}


def feature_vector(features: dict[str, float]) -> np.ndarray:
    return np.array([float(features.get(name, 0.0)) for name in FEATURES])
