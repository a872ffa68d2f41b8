"""The weighted strategies of a query, run side by side: each one's ranked list, and the
result rows they read on the way (so the answer need not read them again)."""

from __future__ import annotations

from functools import partial

from search.conf import SearchConfig
from search.covering import covering
from search.fusion import Hit
from search.metrics import STRATEGY_SECONDS, timed, timed_each
from search.query import SearchFilters
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


def strategy_lists(
    state: QueryState,
    config: SearchConfig,
    inputs: MaterialQueryInputs | None,
    filters: SearchFilters,
) -> tuple[dict[str, list[Hit]], dict[int, ResultRow]]:
    """Each weighted strategy's ranked list, and the result rows the strategies read on the
    way (the properties strategy's candidates carry theirs: the answer need not read them).
    `filters`: the state's, parsed."""
    depth = max(config.candidates, state.limit * state.page)
    exclude = [state.material_id] if state.material_id is not None else []
    searches = vector_searches(state, config, inputs, filters=filters, depth=depth, exclude=exclude)
    if not (state.description and state.weights.get("properties", 0) > 0):
        # Rows only for the results the page may show: a strategy's best `page × limit`.
        shown = state.limit * state.page
        found = side_by_side(
            timed_each({name: with_rows(search, shown) for name, search in searches.items()}),
            workers=config.strategy_workers,
        )
        read = {pk: row[2] for _, rows in found.values() for pk, row in rows.items()}
        return {name: hits for name, (hits, _) in found.items()}, read
    # Each search reads its hits' rows for the properties strategy on its own connection,
    # in its own statement when it can, else right after it: side by side too.
    found = side_by_side(
        timed_each({name: and_candidates(search, filters) for name, search in searches.items()}),
        workers=config.strategy_workers,
    )
    lists = {name: hits for name, (hits, _) in found.items()}
    with timed(STRATEGY_SECONDS, strategy="properties"):
        candidates = properties_candidates(
            description=state.description,
            filters=filters,
            candidate_ids={hit.material_id for hits in lists.values() for hit in hits},
            exclude_material_ids=exclude,
            of_type_enough=depth,
            known={pk: c for _, read in found.values() for pk, c in read.items()},
        )
        lists["properties"] = properties_rank(
            description=state.description, candidates=candidates, limit=depth
        )
    return lists, {c.material_id: c.result for c in candidates if c.result is not None}
