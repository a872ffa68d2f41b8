"""A search answer: fused hits turned into results with explanations and pagination."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from search.conf import STRATEGIES
from search.fusion import Fused
from search.selectors import ResultRow, result_materials_by_id

ATTRIBUTE_LABELS = {
    "material_type": "material type",
    "colors": "colour",
    "finish": "finish",
    "pattern": "pattern",
    "texture": "texture",
    "same_sample": "same sample",
}


@dataclass
class SearchResult:
    material_id: int
    name: str
    category: str
    catalog: str
    score: float  # the relevance: calibrated probability that it is the query's material
    scores: dict[str, float | None]  # each strategy's own raw score
    explanation: dict[str, Any]
    thumbnail_url: str | None
    good: bool = False


@dataclass
class SearchAnswer:
    query_id: str
    phase: str  # "fast" or "refined"
    refinement: str
    results: list[SearchResult]
    total: int
    page: int
    limit: int
    no_good_match: bool
    message: str
    fusion: str
    weights: dict[str, float]
    query_description: dict[str, Any] = field(default_factory=dict)
    analysis_note: str = ""  # what the query image's analysis could not do at its depth
    good_matches: int = 0
    preliminary: bool = False


def _vector_details(details: Mapping[str, object]) -> dict[str, object]:
    """Spatial verification's inliers, and the image strategy's lead of its first hit."""
    found = {"inliers": details["sample_inliers"]} if "sample_inliers" in details else {}
    return {**found, "lead": details["lead"]} if "lead" in details else found


def explanation_of(item: Fused, *, weights: dict[str, float]) -> dict[str, Any]:
    """Each strategy's raw score, rank and calibrated relevance, and each attribute's verdict
    in three levels (matches / close / differs) from the properties strategy's comparison. A
    verified same sample is said so, and a weaker analysis's "differs" is not shown beside it
    (the photo is of this very sample: the analysis was wrong, not the match)."""
    strategies = {
        name: (
            {
                "score": round(s.score, 4),
                "rank": s.rank,
                "relevance": item.evidence.get(name),
                "weight": weights[name],
                **_vector_details(s.details),
            }
            if (s := item.scores.get(name))
            else None
        )
        for name in STRATEGIES
    }
    verdicts: dict[str, str] = {}
    properties = item.scores.get("properties")
    if properties is not None:
        verdicts = {k: v for k, v in dict(properties.details.get("verdicts", {})).items() if v}
    vector = item.scores.get("vector")
    if vector is not None and vector.details.get("same_sample"):
        verdicts = {k: v for k, v in verdicts.items() if v != "differs"}
        verdicts = {"same_sample": "matches", **verdicts}
    matched = {key: verdict != "differs" for key, verdict in verdicts.items()}
    words = [f"{ATTRIBUTE_LABELS[key]} {verdict}" for key, verdict in verdicts.items()]
    return {
        "strategies": strategies,
        "matched": matched,
        "verdicts": verdicts,
        "summary": " · ".join(words),
    }


def results_build(
    *,
    fused: list[Fused],
    weights: dict[str, float],
    page: int,
    limit: int,
    known: Mapping[int, ResultRow] | None = None,
    good_match: float = 0.5,
) -> list[SearchResult]:
    """The requested page of the fused ranking as results (`known`: result rows the
    strategies already read)."""
    window = fused[(page - 1) * limit : page * limit]
    materials = result_materials_by_id(ids=[item.material_id for item in window], known=known)
    results = []
    for item in window:
        material = materials.get(item.material_id)
        if material is None:  # deleted between the query and now
            continue
        results.append(
            SearchResult(
                material_id=material.material_id,
                name=material.name,
                category=material.category,
                catalog=material.catalog,
                score=round(item.relevance, 4),
                good=item.relevance >= good_match,
                scores={
                    name: round(s.score, 4) if (s := item.scores.get(name)) else None
                    for name in STRATEGIES
                },
                explanation=explanation_of(item, weights=weights),
                thumbnail_url=material.thumbnail_url,
            )
        )
    return results


def answer_message(kept: list[Fused], good_matches: int, preliminary: bool, good: float) -> str:
    """What the answer says about itself: preliminary while the refinement is pending (it
    never announces "no good match" then), or why nothing listed is a good match."""
    if preliminary:
        return "Preliminary: from the image alone, refined once its analysis is done."
    if good_matches or not kept:
        return ""
    return (
        f"No material matches this query well: the closest is a {kept[0].relevance:.0%} "
        f"match (a good match needs {good:.0%}). The nearest are listed."
    )
