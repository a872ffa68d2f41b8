"""The search service: encode the query, run the strategies, fuse, explain, cache.

Phase `fast` answers from the vectors (image, text) at once; when the query has an image and
a describer, its analysis runs in the background (`search.refinement`) and
`search_answer_get` then answers phase `refined`, adding property matching and the
description's semantic match.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial

import numpy as np

from analysis.metrics import cache_lookup
from search.conf import SearchConfig, search_config
from search.covering import covering, fallback_encode
from search.crop import query_cropped
from search.database import replica_reads
from search.encoding import as_array as _array
from search.encoding import as_list as _as_list
from search.encoding import away as _away
from search.encoding import (
    cached_query_description,
    query_description,
    query_image_vector,
    query_text_vector,
    unit,
)
from search.errors import SearchError
from search.fusion import NEAREST_LISTED, Hit, cutoff, fuse
from search.metrics import STRATEGY_SECONDS, search_observed, timed, timed_each
from search.providers import SearchProviders, search_providers, with_analysis_options
from search.query import SearchFilters, SearchQuery, filters_parse
from search.refinement import description_text_vector, refinement_submit
from search.relevance.checks import image_checks, state_calibration
from search.relevance.ranking import relevance_ranking
from search.results import SearchAnswer, answer_message, results_build
from search.selectors import MaterialQueryInputs, ResultRow, material_query_inputs
from search.side_by_side import side_by_side
from search.state import (
    REFINEMENT_DONE,
    REFINEMENT_FAILED,
    REFINEMENT_PENDING,
    QueryState,
    answer_lookup,
    new_query_id,
    query_cache_save,
    query_state_load,
    query_state_save,
)
from search.strategies.properties import properties_candidates, properties_rank
from search.strategies.semantic import semantic_search
from search.strategies.vector import QueryVector, StoredVector, vector_search
from search.strategy_calls import and_candidates, vector_tuning, with_rows
from search.textquery import description_from_text, fulltext_query
from search.verification import identical_marked, verified_rerank

REFINE_MODES = ("background", "inline", "never")


def _image_negatives(state: QueryState) -> list[list[float] | None]:
    negatives = [state.negative_image_vector]
    if _shared_space(state):
        negatives.append(state.negative_text_vector)
    return negatives


def _shared_space(state: QueryState) -> bool:
    """Image and text in one embedding space (CLIP-like): text can search images."""
    return bool(state.text_model) and state.text_model == state.image_model


def _semantic_parts(state: QueryState) -> list[list[float] | None]:
    """What the semantic query vector sums besides the material's own description vector."""
    return [state.text_vector, state.description_vector]


def _material_inputs(state: QueryState) -> MaterialQueryInputs | None:
    if state.material_id is None:
        return None
    # Only the embeddings a weighted strategy searches with; their values only when a vector
    # is added to or subtracted from them here (else the query reads them by id).
    wants_image = state.image_vector is None and state.weights.get("vector", 0) > 0
    wants_text = state.weights.get("semantic", 0) > 0
    return material_query_inputs(
        material_id=state.material_id,
        image_model=state.image_model if wants_image else "",
        text_model=state.text_model if wants_text else "",
        image_values=any(n is not None for n in _image_negatives(state)),
        text_values=any(
            p is not None for p in [*_semantic_parts(state), state.negative_text_vector]
        ),
    )


def _state_encode(
    *, query: SearchQuery, providers: SearchProviders, config: SearchConfig
) -> tuple[QueryState, MaterialQueryInputs | None]:
    image_embedder, text_embedder = providers.image_embedder, providers.text_embedder
    state = QueryState(
        query_id=new_query_id(),
        text=query.text.strip(),
        negative_text=query.negative_text.strip(),
        material_id=query.material_id,
        filters=query.filters.raw,
        weights=query.weights or dict(config.weights),
        fusion=query.fusion or config.fusion,
        limit=query.limit,
        page=query.page,
        cutoff=query.cutoff,
        image_model=image_embedder.model,
        image_dimensions=image_embedder.dimensions,
        text_model=text_embedder.model if text_embedder else "",
        text_dimensions=text_embedder.dimensions if text_embedder else 0,
    )
    if query.image is not None:
        state.image_sha256 = query.image.sha256
        state.image_vector = _as_list(
            query_image_vector(
                pixels=query.image.pixels, sha256=query.image.sha256, embedder=image_embedder
            )
        )
    fallback_encode(state=state, query=query, providers=providers)
    if query.negative_image is not None:
        state.negative_image_vector = _as_list(
            query_image_vector(
                pixels=query.negative_image.pixels,
                sha256=query.negative_image.sha256,
                embedder=image_embedder,
            )
        )
    if text_embedder is not None:
        if state.text:
            state.text_vector = _as_list(query_text_vector(text=state.text, embedder=text_embedder))
        if state.negative_text:
            state.negative_text_vector = _as_list(
                query_text_vector(text=state.negative_text, embedder=text_embedder)
            )
    # One query for a material id: 404 before anything else, the description properties
    # matching uses, and the stored vectors the strategies search with.
    inputs = _material_inputs(state)
    if query.material_id is not None:
        if inputs is None:
            raise SearchError(
                "not_found",
                f"No material with id {query.material_id}.",
                field="material_id",
                status=404,
            )
        state.description = inputs.description
    return state, inputs


def _image_query_vector(
    state: QueryState, config: SearchConfig, inputs: MaterialQueryInputs | None = None
) -> QueryVector | None:
    vector = _array(state.image_vector)
    if vector is None and inputs is not None:
        if inputs.image_vector is None and inputs.image_embedding_id is not None:
            return StoredVector(inputs.image_embedding_id)  # nothing to subtract from it
        vector = inputs.image_vector
    if vector is None and _shared_space(state):
        vector = _array(state.text_vector)  # text→image search (CLIP-like embedders)
    negatives = [_array(n) for n in _image_negatives(state)]
    return _away(vector, negatives, config.negative_weight)


def _semantic_query_vector(
    state: QueryState, config: SearchConfig, inputs: MaterialQueryInputs | None = None
) -> QueryVector | None:
    parts = [_array(p) for p in _semantic_parts(state)]
    if inputs is not None and state.text_model:
        if inputs.text_vector is None and inputs.text_embedding_id is not None:
            return StoredVector(inputs.text_embedding_id)  # nothing to add or subtract
        parts.append(inputs.text_vector)
    present = [p for p in parts if p is not None]
    if not present:
        return None
    return _away(
        unit(np.sum(present, axis=0)), [_array(state.negative_text_vector)], config.negative_weight
    )


def _vector_searches(
    state: QueryState,
    config: SearchConfig,
    inputs: MaterialQueryInputs | None,
    *,
    filters: SearchFilters,
    depth: int,
    exclude: list[int],
) -> dict[str, Callable[..., list[Hit]]]:
    """The weighted strategies that search vectors, ready to run (independent of each other)."""
    tuning = vector_tuning(config)
    searches: dict[str, Callable[..., list[Hit]]] = {}
    image_vector = _image_query_vector(state, config, inputs)
    if image_vector is not None and state.weights.get("vector", 0) > 0:
        searches["vector"] = covering(
            state,
            partial(
                vector_search,
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
    semantic_vector = _semantic_query_vector(state, config, inputs)
    if semantic_vector is not None or state.text:
        searches["semantic"] = partial(
            semantic_search,
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


def _strategy_lists(
    state: QueryState, config: SearchConfig, inputs: MaterialQueryInputs | None
) -> tuple[dict[str, list[Hit]], dict[int, ResultRow]]:
    """Each weighted strategy's ranked list, and the result rows the strategies read on the
    way (the properties strategy's candidates carry theirs: the answer need not read them)."""
    filters = filters_parse(raw=state.filters)
    depth = max(config.candidates, state.limit * state.page)
    exclude = [state.material_id] if state.material_id is not None else []
    searches = _vector_searches(
        state, config, inputs, filters=filters, depth=depth, exclude=exclude
    )
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


def _execute(
    state: QueryState, config: SearchConfig, inputs: MaterialQueryInputs | None
) -> SearchAnswer:
    lists, rows = _strategy_lists(state, config, inputs)
    fused = fuse(lists, state.weights, method=state.fusion, k=config.rrf_k)
    bonus = 0.0 if state.fusion == "calibrated" else config.verify_weight
    fused = verified_rerank(fused, {int(k): v for k, v in state.sample_inliers.items()}, bonus)
    fused = identical_marked(fused) if state.image_vector else fused
    fused = relevance_ranking(
        fused,
        lists,
        calibration=state_calibration(state, config),
        weights=state.weights,
        default_weights=config.weights,
        kind="image" if (state.image_vector or state.material_id is not None) else "text",
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


def _answer(
    state: QueryState,
    config: SearchConfig,
    *,
    inputs: MaterialQueryInputs | None = None,
    save_state: bool = False,
) -> SearchAnswer:
    """The answer for a state, from the result cache when the same query ran lately; with
    `save_state`, the state is saved along (on Redis in the lookup's round trip; the answer
    is then cached in the background, so a search waits for one cache round trip)."""
    ttl = config.query_ttl_seconds
    lookup = answer_lookup(state=state, state_ttl=ttl if save_state else 0)
    unsaved = {"state": state, "state_ttl": ttl} if save_state and not lookup.state_saved else {}
    cache_lookup("search_answer", isinstance(lookup.cached, SearchAnswer))
    if isinstance(lookup.cached, SearchAnswer):
        if unsaved:
            query_cache_save(**unsaved)
        return dataclasses.replace(lookup.cached, query_id=state.query_id)
    if inputs is None:
        inputs = _material_inputs(state)  # an earlier query's: its vectors are not in the state
    answer = _execute(state, config, inputs)
    query_cache_save(
        answer_key=lookup.key,
        answer=answer,
        answer_ttl=config.result_cache_seconds,
        background=True,
        **unsaved,
    )
    return answer


@search_observed
@replica_reads
def search_run(
    *,
    query: SearchQuery,
    providers: SearchProviders | None = None,
    refine: str = "background",
) -> SearchAnswer:
    """Run a search; `refine`: background (analyse the image after answering), inline, never."""
    if refine not in REFINE_MODES:
        raise ValueError(f"refine must be one of {REFINE_MODES}")
    query = query_cropped(query=query)  # from here on, the image is the part asked for
    config = search_config()
    providers = with_analysis_options(providers or search_providers(), query.analysis)
    state, inputs = _state_encode(query=query, providers=providers, config=config)
    if query.image is not None:
        image_checks(state, query.image.pixels, config, _image_query_vector(state, config))
    text_overrides = description_from_text(state.text) if state.text else {}
    if query.image is not None and providers.describer is not None and refine != "never":
        described = cached_query_description(
            sha256=query.image.sha256, describer=providers.describer
        )
        if described is None and refine == "inline":
            described = query_description(
                pixels=query.image.pixels, sha256=query.image.sha256, describer=providers.describer
            )
        if described is not None:
            description, state.description_note = described
            state.description = {**description, **text_overrides}
            state.description_vector = description_text_vector(
                description=description, embedder=providers.text_embedder
            )
            state.refinement = REFINEMENT_DONE
        else:
            state.refinement = REFINEMENT_PENDING
    elif text_overrides and not state.description:
        state.description = text_overrides
    pending = state.refinement == REFINEMENT_PENDING
    if pending:
        # Saved before the analysis starts: the background job reads the state back.
        query_state_save(state=state, ttl=config.query_ttl_seconds)
        refinement_submit(
            workers=config.refine_workers,
            query_id=state.query_id,
            pixels=query.image.pixels,
            sha256=query.image.sha256,
            describer=providers.describer,
            text_embedder=providers.text_embedder,
            ttl=config.query_ttl_seconds,
            text_overrides=text_overrides,
        )
    return _answer(state, config, inputs=inputs, save_state=not pending)


@search_observed
@replica_reads
def search_answer_get(*, query_id: str, **paging: int) -> SearchAnswer:
    """An earlier query's current answer (refined once analysed); `page`/`limit` page it."""
    state = query_state_load(query_id=query_id, **paging)
    if state is None:
        raise SearchError(
            "query_not_found",
            "No such query (or it expired); run the search again.",
            field="query_id",
            status=404,
        )
    return _answer(state, search_config())
