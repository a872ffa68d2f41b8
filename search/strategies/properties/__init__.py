"""Properties strategy: the query's structured description against the catalog's.

Hard filters are JSONB containment in SQL (`search.strategies.sql.filters_where`); the soft
match is an overlap score in Python over the candidates: material type (the analysis's, or
the material's own labelled category, as a supplier's catalog states it), colours by
CIEDE2000, finish, pattern and texture. A field the query does not know ("unknown", or absent
from a text query) neither helps nor hurts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from search.fusion import Hit
from search.query import SearchFilters
from search.strategies.properties.candidates import (
    TYPE_CANDIDATES,
    PropertiesCandidate,
    candidates_from_facets,
    properties_candidates,
    properties_candidates_of,
)
from search.strategies.properties.similarity import (
    COLOR_DELTA_E_ZERO,
    COLOR_MATCHED,
    GOOD_SCORE,
    WEIGHTS,
    description_similarity,
    descriptions_similarity,
)

__all__ = [
    "COLOR_DELTA_E_ZERO",
    "COLOR_MATCHED",
    "GOOD_SCORE",
    "TYPE_CANDIDATES",
    "WEIGHTS",
    "PropertiesCandidate",
    "candidates_from_facets",
    "description_similarity",
    "descriptions_similarity",
    "properties_candidates",
    "properties_candidates_of",
    "properties_rank",
    "properties_search",
]


def properties_rank(
    *, description: Mapping[str, Any], candidates: Sequence[PropertiesCandidate], limit: int
) -> list[Hit]:
    """The `limit` candidates most like the description (`description_similarity`), best
    first; `good` when alike enough and not of another material type."""
    scored = descriptions_similarity(
        query=description, candidates=[(c.compared, c.category) for c in candidates]
    )
    hits = [
        Hit(
            material_id=candidate.material_id,
            score=score,
            good=score >= GOOD_SCORE and matched["material_type"] is not False,
            details={"matched": dict(matched), "verdicts": getattr(matched, "verdicts", {})},
        )
        for candidate, (score, matched) in zip(candidates, scored, strict=True)
    ]
    return sorted(hits, key=lambda h: (-h.score, h.material_id))[:limit]


def properties_search(
    *,
    description: Mapping[str, Any],
    filters: SearchFilters,
    limit: int,
    candidate_ids: Iterable[int] = (),
    exclude_material_ids: Iterable[int] = (),
) -> list[Hit]:
    """Materials scored by `description_similarity`: the other strategies' candidates plus
    materials of the query's type, all under the hard filters."""
    candidates = properties_candidates(
        description=description,
        filters=filters,
        candidate_ids=candidate_ids,
        exclude_material_ids=exclude_material_ids,
    )
    return properties_rank(description=description, candidates=candidates, limit=limit)
