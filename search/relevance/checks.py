"""What an image query learns while its pixels are in memory (query images are never
stored): spatial-verification inliers on its closest candidates and P(material)."""

from __future__ import annotations

from collections.abc import Sequence

from search.conf import SearchConfig, verified_depth
from search.fusion import Hit
from search.query import SearchFilters
from search.relevance.calibration import Calibration
from search.relevance.ranking import material_probability, query_calibration
from search.relevance.typicality import NEIGHBOURS
from search.state import QueryState
from search.strategies.vector import QueryVector, vector_search
from search.verification import image_features, same_sample_of, sample_inliers


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
            limit=max(verified_depth(config), NEIGHBOURS),
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
        inliers = verified_inliers(pixels, closest, config)
        state.sample_inliers = {str(k): v for k, v in inliers.items()}


def verified_inliers(pixels, closest: Sequence[Hit], config: SearchConfig) -> dict[int, int]:
    """Inliers of the first `verify_top` candidates; when none of them is clearly the same
    sample, the next ones up to `verify_extend` are checked for one, and only that one joins
    them. The photo's own sample is sometimes ranked 11th–30th by the image vector (a strong
    crop, tilt or colour cast); the others' chance inliers stay out of the evidence, where
    checking 30 for every query had cost category precision (README, evaluate_search)."""
    query = image_features(pixels)  # once: the query's keypoints serve both rounds
    ids = [hit.material_id for hit in closest[: config.verify_top]]
    inliers = sample_inliers(query=query, material_ids=ids)
    cosines = {hit.material_id: hit.score for hit in closest}
    more_ids = [hit.material_id for hit in closest[config.verify_top : verified_depth(config)]]
    if not more_ids or same_sample_of(inliers, cosines) is not None:
        return inliers
    more = sample_inliers(query=query, material_ids=more_ids)
    winner = same_sample_of({**inliers, **more}, cosines)
    if winner not in more:
        return inliers
    kept = {**inliers, winner: more[winner]}
    return kept if same_sample_of(kept, cosines) == winner else inliers
