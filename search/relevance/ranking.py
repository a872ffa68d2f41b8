"""The search service's use of relevance: P(material) of an image query, and the fused
ranking re-scored (and, for the `calibrated` fusion, re-ordered) by relevance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PIL import Image

from search.fusion import Fused, Hit, ranked
from search.relevance.calibration import Calibration, calibration_for
from search.relevance.combine import (
    RelevanceInputs,
    image_top_kept,
    ranked_by_relevance,
    relevance_apply,
    sigmoid,
)
from search.relevance.typicality import image_statistics, neighbour_features


def query_calibration(*, image_model: str, text_model: str, threshold: float) -> Calibration:
    return calibration_for(image_model=image_model, text_model=text_model, threshold=threshold)


def material_features(pixels: Image.Image, similarities: Sequence[float]) -> dict[str, float]:
    return {**neighbour_features(similarities), **image_statistics(pixels)}


def material_probability(
    calibration: Calibration, *, pixels: Image.Image, similarities: Sequence[float]
) -> float | None:
    """P(the query image shows a material), or None when the model has no fitted one."""
    if calibration.material is None:
        return None
    features = material_features(pixels, similarities)
    return round(sigmoid(calibration.material.logit(features)), 4)


def relevance_ranking(
    fused: Sequence[Fused],
    lists: Mapping[str, Sequence[Hit]],
    *,
    calibration: Calibration,
    weights: Mapping[str, float],
    default_weights: Mapping[str, float],
    kind: str,
    material: float | None,
    method: str,
) -> list[Fused]:
    """Relevance on every item; ordered by it for `calibrated` (else the fusion's order), and
    the image strategy's first ten kept within the first fifty."""
    relevance_apply(
        fused,
        RelevanceInputs(
            calibration=calibration,
            weights=weights,
            default_weights=default_weights,
            kind=kind,
            material_probability=material,
        ),
    )
    ordered = ranked_by_relevance(fused) if method == "calibrated" else list(fused)
    image_hits = [hit.material_id for hit in ranked(lists.get("vector", []))]
    return image_top_kept(ordered, image_hits)
