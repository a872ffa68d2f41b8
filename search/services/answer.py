"""A state's answer: the strategies' lists fused, re-ranked by spatial verification and
relevance, cut where good matches end, paged — from the answer cache when the same query ran
lately."""

from __future__ import annotations

import dataclasses

from analysis.metrics import cache_lookup
from search.conf import SearchConfig
from search.fusion import NEAREST_LISTED, cutoff, fuse
from search.query import SearchFilters
from search.relevance.checks import state_calibration
from search.relevance.ranking import relevance_ranking
from search.results import SearchAnswer, answer_message, results_build
from search.selectors import MaterialQueryInputs
from search.services.encode import material_inputs
from search.services.strategy_lists import Ran, strategy_lists
from search.state import (
    REFINEMENT_FAILED,
    REFINEMENT_PENDING,
    QueryState,
    answer_lookup,
    query_cache_save,
)
from search.verification import identical_marked, verified_rerank


def execute(
    state: QueryState,
    config: SearchConfig,
    inputs: MaterialQueryInputs | None,
    filters: SearchFilters,
    ran: dict[str, Ran] | None = None,
) -> SearchAnswer:
    lists, rows = strategy_lists(state, config, inputs, filters, ran)
    fused = fuse(lists, state.weights, method=state.fusion, k=config.rrf_k)
    bonus = 0.0 if state.fusion == "calibrated" else config.verify_weight
    # "Same sample" is said of a photo of a material: when the query is probably not one
    # (P(material) below a good match), chance inliers on a star field or a logo are no sample.
    material = state.material_probability
    claims = material is None or material >= config.good_match
    inliers = {int(k): v for k, v in state.sample_inliers.items()}
    fused = verified_rerank(fused, inliers, bonus, claims=claims)
    fused = identical_marked(fused) if state.image_vector is not None else fused
    image_like = state.image_vector is not None or state.material_id is not None
    fused = relevance_ranking(
        fused,
        lists,
        calibration=state_calibration(state, config),
        weights=state.weights,
        default_weights=config.weights,
        kind="image" if image_like else "text",
        material=state.material_probability,
        method=state.fusion,
    )
    good_matches = sum(1 for item in fused if item.relevance >= config.good_match)
    nearest = max(state.limit, NEAREST_LISTED)
    kept = cutoff(fused, config.good_match, nearest=nearest) if state.cutoff else fused
    phase = "fast" if state.refinement in (REFINEMENT_PENDING, REFINEMENT_FAILED) else "refined"
    preliminary = state.refinement == REFINEMENT_PENDING
    return SearchAnswer(
        query_id=state.query_id,
        phase=phase,
        refinement=state.refinement,
        results=results_build(
            fused=kept,
            weights=state.weights,
            page=state.page,
            limit=state.limit,
            known=rows,
            good_match=config.good_match,
        ),
        total=len(kept),
        page=state.page,
        limit=state.limit,
        no_good_match=good_matches == 0,
        message=answer_message(kept, good_matches, preliminary, config.good_match),
        good_matches=good_matches,
        preliminary=preliminary,
        fusion=state.fusion,
        weights=state.weights,
        query_description=state.description,
        analysis_note=state.description_note,
    )


def answer(
    state: QueryState,
    config: SearchConfig,
    *,
    filters: SearchFilters,
    inputs: MaterialQueryInputs | None = None,
    save_state: bool = False,
    ran: dict[str, Ran] | None = None,
) -> SearchAnswer:
    """The answer for a state (`filters`: its filters, parsed), from the result cache when
    the same query ran lately; with `save_state`, the state is saved along (on Redis in the
    lookup's round trip; the answer is then cached in the background, so a search waits for
    one cache round trip); `ran`: strategies already run for this state."""
    ttl = config.query_ttl_seconds
    lookup = answer_lookup(state=state, state_ttl=ttl if save_state else 0)
    unsaved = {"state": state, "state_ttl": ttl} if save_state and not lookup.state_saved else {}
    cache_lookup("search_answer", isinstance(lookup.cached, SearchAnswer))
    if isinstance(lookup.cached, SearchAnswer):
        if unsaved:
            query_cache_save(**unsaved)
        return dataclasses.replace(lookup.cached, query_id=state.query_id)
    if inputs is None:
        inputs = material_inputs(state)  # an earlier query's: its vectors are not in the state
    found = execute(state, config, inputs, filters, ran)
    query_cache_save(
        answer_key=lookup.key,
        answer=found,
        answer_ttl=config.result_cache_seconds,
        background=True,
        **unsaved,
    )
    return found
