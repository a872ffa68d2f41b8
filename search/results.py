"""A search answer: fused hits turned into results with explanations and pagination."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
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
    score: float
    scores: dict[str, float | None]
    explanation: dict[str, Any]
    thumbnail_url: str | None


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

    def as_dict(self) -> dict[str, Any]:
        """The answer as JSON-ready data. Shallow: the nested dicts are the answer's own, for
        rendering (`dataclasses.asdict` deep-copied them all: a third of an API request's
        Python time in a profile of `POST /api/v1/search/`)."""
        data = {name: getattr(self, name) for name in _ANSWER_FIELDS}
        data["results"] = [
            {name: getattr(result, name) for name in _RESULT_FIELDS} for result in self.results
        ]
        return data


_ANSWER_FIELDS = tuple(f.name for f in fields(SearchAnswer))
_RESULT_FIELDS = tuple(f.name for f in fields(SearchResult))


def explanation_of(item: Fused, *, weights: dict[str, float]) -> dict[str, Any]:
    """Each strategy's score and rank, and the attributes that matched (✓/✗)."""
    strategies = {
        name: (
            {"score": round(s.score, 4), "rank": s.rank, "good": s.good, "weight": weights[name]}
            if (s := item.scores.get(name))
            else None
        )
        for name in STRATEGIES
    }
    matched: dict[str, bool | None] = {}
    properties = item.scores.get("properties")
    if properties is not None:
        matched = dict(properties.details.get("matched", {}))
    vector = item.scores.get("vector")
    if vector is not None and vector.details.get("same_sample"):
        matched["same_sample"] = True  # only said when seen: most candidates are other samples
    marks = [
        f"{ATTRIBUTE_LABELS[key]} {'✓' if value else '✗'}"
        for key, value in matched.items()
        if value is not None
    ]
    return {"strategies": strategies, "matched": matched, "summary": " · ".join(marks)}


def results_build(
    *,
    fused: list[Fused],
    weights: dict[str, float],
    page: int,
    limit: int,
    known: Mapping[int, ResultRow] | None = None,
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
                score=round(item.score, 6),
                scores={
                    name: round(s.score, 4) if (s := item.scores.get(name)) else None
                    for name in STRATEGIES
                },
                explanation=explanation_of(item, weights=weights),
                thumbnail_url=material.thumbnail_url,
            )
        )
    return results
