"""Fusion of the strategies' ranked lists: pure Python, no I/O.

How results are ordered (`SWATCH_SEARCH_FUSION`); whatever the order, each result's `score` is
its calibrated relevance (`search.relevance`):
- **calibrated** (default): by that relevance, a logistic combination of the strategies'
  calibrated evidence (see search/relevance/combine.py).
- **rrf** (weighted reciprocal-rank fusion): `Σ w_s / (k + rank_s)`; robust to scores that are
  not comparable between strategies (cosine vs overlap vs text rank).
- **relative** (relative-score fusion): each list's scores min-max normalised to 0..1, then
  `Σ w_s · norm_s`; keeps how much better the first hit is than the tenth.

A material missing from a strategy's list contributes nothing from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Hit:
    """One strategy's opinion of one material: its score (higher is better) and whether that
    strategy considers it a good match on its own (the relevance cutoff)."""

    material_id: int
    score: float
    good: bool = False
    details: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class StrategyScore:
    score: float
    rank: int
    good: bool
    details: Mapping[str, object] = field(default_factory=dict)


@dataclass
class Fused:
    """A material in the fused ranking: the fusion's own `score` (its ordering), each
    strategy's part, and the calibrated `relevance` (`search.relevance`) with the
    per-strategy probabilities it came from (`evidence`); `evidence_relevance` is the
    relevance before the query's P(material) capped it, which orders the capped ties."""

    material_id: int
    score: float
    scores: dict[str, StrategyScore]
    relevance: float = 0.0
    evidence_relevance: float = 0.0
    evidence: dict[str, float] = field(default_factory=dict)


def ranked(hits: Sequence[Hit]) -> list[Hit]:
    """Best first; ties broken by material id so the order is stable."""
    return sorted(hits, key=lambda h: (-h.score, h.material_id))


def _ranks(lists: Mapping[str, Sequence[Hit]]) -> dict[str, dict[int, tuple[int, Hit]]]:
    return {
        name: {hit.material_id: (rank, hit) for rank, hit in enumerate(ranked(hits), start=1)}
        for name, hits in lists.items()
    }


def _collect(
    lists: Mapping[str, Sequence[Hit]],
    weights: Mapping[str, float],
    contribution,
) -> list[Fused]:
    by_strategy = _ranks(lists)
    fused: dict[int, Fused] = {}
    for name, entries in by_strategy.items():
        weight = float(weights.get(name, 0.0))
        for material_id, (rank, hit) in entries.items():
            item = fused.setdefault(material_id, Fused(material_id, 0.0, {}))
            item.scores[name] = StrategyScore(
                score=hit.score, rank=rank, good=hit.good, details=hit.details
            )
            item.score += weight * contribution(name, rank, hit)
    return sorted(fused.values(), key=lambda f: (-f.score, f.material_id))


def fuse_rrf(
    lists: Mapping[str, Sequence[Hit]], weights: Mapping[str, float], *, k: int = 60
) -> list[Fused]:
    """Weighted reciprocal-rank fusion: score = Σ w_s / (k + rank_s), ranks from 1."""
    return _collect(lists, weights, lambda name, rank, hit: 1.0 / (k + rank))


def fuse_relative(lists: Mapping[str, Sequence[Hit]], weights: Mapping[str, float]) -> list[Fused]:
    """Relative-score fusion: score = Σ w_s · (s - min_s) / (max_s - min_s); a list whose
    scores are all equal counts each of its hits as 1."""
    bounds = {}
    for name, hits in lists.items():
        scores = [h.score for h in hits]
        bounds[name] = (min(scores), max(scores)) if scores else (0.0, 0.0)

    def normalised(name: str, rank: int, hit: Hit) -> float:
        low, high = bounds[name]
        return 1.0 if high == low else (hit.score - low) / (high - low)

    return _collect(lists, weights, normalised)


def fuse(
    lists: Mapping[str, Sequence[Hit]],
    weights: Mapping[str, float],
    *,
    method: str = "calibrated",
    k: int = 60,
) -> list[Fused]:
    # A strategy weighted 0 is left out entirely: it must not add materials to the ranking.
    active = {name: hits for name, hits in lists.items() if weights.get(name, 0.0) > 0}
    if method in ("relative", "calibrated"):
        # calibrated: re-ordered by relevance afterwards; relative's order breaks its ties.
        return fuse_relative(active, weights)
    return fuse_rrf(active, weights, k=k)


# How many of the nearest materials an answer lists even when they are not good matches (more
# when a page is longer): a fixed number, so that the answer's total and its pages do not
# depend on the page size a client asks for.
NEAREST_LISTED = 20


def cutoff(fused: Sequence[Fused], good_match: float, *, nearest: int) -> list[Fused]:
    """The good matches (relevance ≥ `good_match`) and, in the first `nearest` places, the
    nearest materials all the same (marked as not good matches): an answer never hides the
    closest materials, and a non-empty catalog never answers with an empty page."""
    return [
        item for index, item in enumerate(fused) if index < nearest or item.relevance >= good_match
    ]
