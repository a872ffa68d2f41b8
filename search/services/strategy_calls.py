"""How the service calls a vector strategy: its shared knobs, the read-model rows it reads
along, and the properties candidates of its hits."""

from __future__ import annotations

from search.conf import SearchConfig
from search.fusion import Hit
from search.query import SearchFilters
from search.strategies.properties import (
    PropertiesCandidate,
    candidates_from_facets,
    properties_candidates_of,
)
from search.strategies.vector import FacetRow, SearchWithRows


def with_rows(search: SearchWithRows, best: int | None = None):
    """The search, and the read-model rows of its (`best`) hits it read along, if it could."""

    def run() -> tuple[list[Hit], dict[int, FacetRow]]:
        return search(rows_of_best=best)

    return run


def and_candidates(search: SearchWithRows, filters: SearchFilters):
    """The search, and the properties candidates of its hits: from the rows it read along,
    else read right after it."""

    def run() -> tuple[list[Hit], dict[int, PropertiesCandidate]]:
        hits, rows = with_rows(search)()
        candidates = candidates_from_facets(rows)
        missing = [hit.material_id for hit in hits if hit.material_id not in candidates]
        if missing:
            candidates.update(properties_candidates_of(material_ids=missing, filters=filters))
        return hits, candidates

    return run


def vector_tuning(config: SearchConfig) -> dict[str, int]:
    """The index-search knobs every vector query of a search shares."""
    return {
        "ef_search": config.ef_search,
        "max_scan_tuples": config.max_scan_tuples,
        "exact_scan_max_rows": config.exact_scan_max_rows,
    }
