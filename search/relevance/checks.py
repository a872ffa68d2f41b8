"""What an image query learns while its pixels are in memory (query images are never
stored): spatial-verification inliers on its closest candidates and P(material)."""

from __future__ import annotations

from collections.abc import Sequence

from search.conf import SearchConfig
from search.fusion import Hit
from search.query import SearchFilters
from search.relevance.calibration import Calibration
from search.relevance.ranking import material_probability, query_calibration
from search.relevance.typicality import NEIGHBOURS
from search.state import QueryState
from search.strategies.vector import QueryVector, vector_search
from search.verification import sample_inliers


def state_calibration(state: QueryState, config: SearchConfig) -> Calibration:
    return query_calibration(
        image_model=state.image_model,
        text_model=state.text_model,
        threshold=config.similarity_threshold,
    )


def image_checks(
    state: QueryState,
    pixels,
    config: SearchConfig,
    vector: QueryVector | None,
    *,
    filters: SearchFilters,
    closest: Sequence[Hit] | None = None,
):
    """Sets the state's `sample_inliers` (search/verification.py) and
    `material_probability` (search/relevance/typicality.py), from the closest candidates
    under the query's filters (`filters`, parsed): `closest`, the image strategy's hits
    when it ran (search/services/strategy_lists.py), else read here."""
    if vector is None:
        return
    if closest is None:
        closest = vector_search(
            vector=vector,
            model=state.image_model,
            dimensions=state.image_dimensions,
            filters=filters,
            limit=max(config.verify_top, NEIGHBOURS),
            threshold=config.similarity_threshold,
            exclude_material_ids=[],
            ef_search=config.ef_search,
            max_scan_tuples=config.max_scan_tuples,
            exact_scan_max_rows=config.exact_scan_max_rows,
        )
    state.material_probability = material_probability(
        state_calibration(state, config), pixels=pixels, similarities=[h.score for h in closest]
    )
    if config.verify_top > 0:
        ids = [hit.material_id for hit in closest[: config.verify_top]]
        state.sample_inliers = {
            str(k): v for k, v in sample_inliers(pixels=pixels, material_ids=ids).items()
        }
