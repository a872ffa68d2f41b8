"""The relevance calibration file: what each strategy's raw score means as a probability of
relevance (same material as the query), how the evidence combines, and P(material).

A small versioned JSON (`SWATCH_SEARCH_CALIBRATION`; the offline defaults ship
`search/relevance/offline_calibration.json`, fitted by `manage.py fit_relevance`), keyed by
embedding model: evidence is only as good as the model that produced it. A model the file
does not know gets the conservative fallback below, and `/healthz` says so.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

logger = logging.getLogger("swatch.search")

VERSION = 1
DEFAULT_PATH = Path(__file__).with_name("offline_calibration.json")
# Fallback for an image model without calibration: P(relevant) = 0.5 at the configured
# similarity threshold, rising over `FALLBACK_SPREAD` of cosine: a good match needs a cosine
# well above the threshold, as before calibration existed.
FALLBACK_SPREAD = 0.04
FALLBACK_INLIERS = 0.5  # per ln(1 + inliers)
FALLBACK_SEMANTIC = (0.6, 0.05)  # MiniLM-like: paraphrases above ~0.6
FALLBACK_PROPERTIES = (0.7, 0.05)


@dataclass(frozen=True)
class Linear:
    """logit = bias + Σ weights[name] · (x[name] − mean[name]) / scale[name]."""

    bias: float
    weights: dict[str, float]
    mean: dict[str, float] = field(default_factory=dict)
    scale: dict[str, float] = field(default_factory=dict)

    def logit(self, x: dict[str, float]) -> float:
        total = self.bias
        for name, weight in self.weights.items():
            value = (float(x.get(name, 0.0)) - self.mean.get(name, 0.0)) / self.scale.get(name, 1.0)
            total += weight * value
        return total

    def as_data(self) -> dict[str, Any]:
        return {"bias": self.bias, "weights": self.weights, "mean": self.mean, "scale": self.scale}

    @classmethod
    def of(cls, data: dict[str, Any]) -> Linear:
        return cls(
            bias=float(data["bias"]),
            weights={k: float(v) for k, v in data["weights"].items()},
            mean={k: float(v) for k, v in data.get("mean", {}).items()},
            scale={k: float(v) for k, v in data.get("scale", {}).items()},
        )


@dataclass(frozen=True)
class Calibration:
    """Everything the relevance of a result needs, for one image model and one text model."""

    image_model: str
    text_model: str
    vector: Linear | None  # features: cosine, inliers (ln 1+n), same_sample
    material: Linear | None  # P(material) over search.relevance.typicality.FEATURES
    semantic: dict[str, Linear]  # by query kind: "image", "text"
    properties: dict[str, Linear]
    fusion: dict[str, Linear]  # by the evidence present: "properties+semantic+vector", …
    good_match: float | None = None
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def calibrated(self) -> bool:
        return self.vector is not None


def _fallback_vector(threshold: float) -> Linear:
    """Spatial verification is model-independent evidence: a verified same sample is relevant
    whatever the embedding says (+6 logits); inliers short of that count a little."""
    return Linear(
        bias=-threshold / FALLBACK_SPREAD,
        weights={"cosine": 1 / FALLBACK_SPREAD, "inliers": FALLBACK_INLIERS, "same_sample": 6.0},
    )


def _linear_at(midpoint: float, spread: float, name: str = "score") -> Linear:
    return Linear(bias=-midpoint / spread, weights={name: 1 / spread})


def fallback(*, image_model: str, text_model: str, threshold: float) -> Calibration:
    return Calibration(
        image_model=image_model,
        text_model=text_model,
        vector=None if not image_model else _fallback_vector(threshold),
        material=None,
        semantic={"image": _linear_at(*FALLBACK_SEMANTIC), "text": _linear_at(*FALLBACK_SEMANTIC)},
        properties={
            "image": _linear_at(*FALLBACK_PROPERTIES),
            "text": _linear_at(*FALLBACK_PROPERTIES),
        },
        fusion={},
    )


def calibration_path() -> Path:
    configured = settings.SWATCH_SEARCH.get("CALIBRATION") or ""
    return Path(configured) if configured else DEFAULT_PATH


@lru_cache(maxsize=4)
def _file(path: str, mtime: float) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        logger.warning("relevance calibration %s unreadable (%s): fallback", path, exc)
        return {}
    if data.get("version") != VERSION:
        logger.warning("relevance calibration %s: version %r unknown", path, data.get("version"))
        return {}
    return data


def calibration_file() -> dict[str, Any]:
    path = calibration_path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    return _file(str(path), mtime)


def calibration_for(*, image_model: str, text_model: str, threshold: float) -> Calibration:
    """The calibration of these models, or parts of the fallback for what the file lacks."""
    data = calibration_file()
    base = fallback(image_model=image_model, text_model=text_model, threshold=threshold)
    image = data.get("image_models", {}).get(image_model)
    text = data.get("text_models", {}).get(text_model)
    if not image:
        return base
    semantic = dict(base.semantic)
    if text:
        semantic.update({k: Linear.of(v) for k, v in text.get("semantic", {}).items()})
    return Calibration(
        image_model=image_model,
        text_model=text_model,
        vector=Linear.of(image["vector"]),
        material=Linear.of(image["material"]) if image.get("material") else None,
        semantic=semantic,
        properties={k: Linear.of(v) for k, v in data.get("properties", {}).items()}
        or base.properties,
        fusion={k: Linear.of(v) for k, v in image.get("fusion", {}).items()} if text else {},
        good_match=data.get("good_match"),
        card=data.get("card", {}),
    )


def calibration_status(*, image_model: str, text_model: str) -> dict[str, Any]:
    """For /healthz: is relevance calibrated for the configured models, and by what file."""
    data = calibration_file()
    image = image_model in data.get("image_models", {})
    text = text_model in data.get("text_models", {})
    status = {
        "calibrated": image and text,
        "file": str(calibration_path()),
        "image_model": image_model,
        "text_model": text_model,
    }
    if not (image and text):
        missing = [m for m, ok in ((image_model, image), (text_model, text)) if not ok]
        status["fallback"] = (
            f"no fitted calibration for {', '.join(missing)}: conservative fallback "
            "(see docs/ARCHITECTURE.md, Relevance; fit one with manage.py fit_relevance)"
        )
    else:
        status["fitted"] = data.get("card", {}).get("fitted_at", "")
    return status
