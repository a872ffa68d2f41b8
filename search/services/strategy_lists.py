"""The weighted strategies of a query, run side by side: each one's ranked list, and the
result rows they read on the way (so the answer need not read them again)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from search.conf import SearchConfig, verified_depth
from search.covering import covering
from search.fusion import Hit
from search.metrics import STRATEGY_SECONDS, timed, timed_each
from search.query import SearchFilters
from search.relevance.typicality import NEIGHBOURS
from search.selectors import MaterialQueryInputs, ResultRow
from search.services.strategy_calls import (
    SearchWithRows,
    and_candidates,
    vector_tuning,
    with_rows,
)
from search.services.vectors import image_query_vector, semantic_query_vector
from search.side_by_side import side_by_side
from search.state import QueryState
from search.strategies.properties import properties_candidates, properties_rank
from search.strategies.semantic import semantic_search_with_rows
from search.strategies.vector import vector_search_with_rows
from search.textquery import fulltext_query

# A strategy's hits and what it read along (result rows, or properties candidates).
Ran = tuple[list[Hit], dict[int, Any]]


def vector_searches(
    state: QueryState,
    config: SearchConfig,
    inputs: MaterialQueryInputs | None,
    *,
    filters: SearchFilters,
    depth: int,
    exclude: list[int],
) -> dict[str, SearchWithRows]:
    """The weighted strategies that search vectors, ready to run: they do not depend on each
    other."""
    tuning = vector_tuning(config)
    searches: dict[str, SearchWithRows] = {}
    image_vector = image_query_vector(state, config, inputs)
    if image_vector is not None and state.weights.get("vector", 0) > 0:
        searches["vector"] = covering(
            state,
            partial(
                vector_search_with_rows,
                vector=image_vector,
                model=state.image_model,
                dimensions=state.image_dimensions,
                filters=filters,
                limit=depth,
                threshold=config.similarity_threshold,
                exclude_material_ids=exclude,
                **tuning,
            ),
        )
    if state.weights.get("semantic", 0) <= 0:
        return searches
    semantic_vector = semantic_query_vector(state, config, inputs)
    if semantic_vector is not None or state.text:
        searches["semantic"] = partial(
            semantic_search_with_rows,
            vector=semantic_vector,
            model=state.text_model,
            dimensions=state.text_dimensions,
            text=fulltext_query(state.text),
            filters=filters,
            limit=depth,
            exclude_material_ids=exclude,
            **{**tuning, "ef_search": config.semantic_ef_search},
        )
    return searches


def _properties_weighted(state: QueryState) -> bool:
    return bool(state.description) and state.weights.get("properties", 0) > 0


def _depth(state: QueryState, config: SearchConfig) -> int:
    return max(config.candidates, state.limit * state.page)


def _runs(
    state: QueryState,
    config: SearchConfig,
    inputs: MaterialQueryInputs | None,
    filters: SearchFilters,
) -> dict[str, Callable[[], Ran]]:
    """The vector strategies ready to run, each with what it reads along: with the
    properties strategy weighted, its candidates (read in the search's own statement when it
    can, else right after it); otherwise the rows of the results the page may show (its best
    `page × limit`)."""
    depth = _depth(state, config)
    exclude = [state.material_id] if state.material_id is not None else []
    searches = vector_searches(state, config, inputs, filters=filters, depth=depth, exclude=exclude)
    if _properties_weighted(state):
        return timed_each({name: and_candidates(s, filters) for name, s in searches.items()})
    shown = state.limit * state.page
    return timed_each({name: with_rows(s, shown) for name, s in searches.items()})


def image_strategy_ran(
    state: QueryState,
    config: SearchConfig,
    inputs: MaterialQueryInputs | None,
    filters: SearchFilters,
) -> dict[str, Ran]:
    """The image (`vector`) strategy run now, as `strategy_lists` would run it, for an image
    query's checks to use its closest hits (`strategy_lists(..., ran=)` then does not run it
    again); {} when the strategy is not weighted."""
    run = _runs(state, config, inputs, filters).get("vector")
    return {} if run is None else {"vector": run()}


def closest_of(state: QueryState, config: SearchConfig, ran: dict[str, Ran]) -> list[Hit] | None:
    """The image strategy's closest hits for the image checks (search/relevance/checks.py),
    when they are what the checks would read: the strategy ran, deep enough, and on the
    active model alone (no fallback model's hits, whose similarities are not comparable)."""
    wanted = max(verified_depth(config), NEIGHBOURS)
    if "vector" not in ran or state.fallback_vector is not None:
        return None
    if _depth(state, config) < wanted:
        return None
    return ran["vector"][0][:wanted]


def strategy_lists(
    state: QueryState,
    config: SearchConfig,
    inputs: MaterialQueryInputs | None,
    filters: SearchFilters,
    ran: dict[str, Ran] | None = None,
) -> tuple[dict[str, list[Hit]], dict[int, ResultRow]]:
    """Each weighted strategy's ranked list, and the result rows the strategies read on the
    way (the properties strategy's candidates carry theirs: the answer need not read them).
    `filters`: the state's, parsed; `ran`: strategies already run (`image_strategy_ran`)."""
    ran = ran or {}
    runs = _runs(state, config, inputs, filters)
    todo = {name: run for name, run in runs.items() if name not in ran}
    found = {**ran, **side_by_side(todo, workers=config.strategy_workers)}
    lists = {name: found[name][0] for name in runs}
    if not _properties_weighted(state):
        read = {pk: row[2] for name in runs for pk, row in found[name][1].items()}
        return lists, read
    depth = _depth(state, config)
    exclude = [state.material_id] if state.material_id is not None else []
    with timed(STRATEGY_SECONDS, strategy="properties"):
        candidates = properties_candidates(
            description=state.description,
            filters=filters,
            candidate_ids={hit.material_id for hits in lists.values() for hit in hits},
            exclude_material_ids=exclude,
            of_type_enough=depth,
            known={pk: c for name in runs for pk, c in found[name][1].items()},
        )
        lists["properties"] = properties_rank(
            description=state.description, candidates=candidates, limit=depth
        )
    return lists, {c.material_id: c.result for c in candidates if c.result is not None}
