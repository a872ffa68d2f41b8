"""The search service's entry points: `search_run` (a new query) and `search_answer_get` (an
earlier query's current answer, by its id)."""

from __future__ import annotations

from search.conf import search_config
from search.crop import query_cropped
from search.database import replica_reads
from search.encoding import cached_query_description, query_description
from search.errors import SearchError
from search.metrics import search_observed
from search.providers import SearchProviders, search_providers, with_analysis_options
from search.query import SearchQuery, filters_parse
from search.refinement import description_text_vector, refinement_submit
from search.relevance.checks import image_checks
from search.results import SearchAnswer
from search.services.answer import answer
from search.services.encode import state_encode
from search.services.strategy_lists import closest_of, image_strategy_ran
from search.services.vectors import image_query_vector
from search.state import (
    REFINEMENT_DONE,
    REFINEMENT_PENDING,
    QueryState,
    query_state_load,
    query_state_save,
)
from search.textquery import description_from_text

REFINE_MODES = ("background", "inline", "never")


def _query_described(
    state: QueryState,
    query: SearchQuery,
    providers: SearchProviders,
    *,
    refine: str,
    text_overrides: dict,
) -> None:
    """The query image's description into the state when it is known (cached, or analysed
    here with `refine="inline"`), else the state's refinement is pending."""
    described = cached_query_description(sha256=query.image.sha256, describer=providers.describer)
    if described is None and refine == "inline":
        described = query_description(
            pixels=query.image.pixels, sha256=query.image.sha256, describer=providers.describer
        )
    if described is None:
        state.refinement = REFINEMENT_PENDING
        return
    description, state.description_note = described  # the note: what the depth could not do
    state.description = {**description, **text_overrides}
    state.description_vector = description_text_vector(
        description=description, embedder=providers.text_embedder
    )
    state.refinement = REFINEMENT_DONE


@search_observed
@replica_reads
def search_run(
    *,
    query: SearchQuery,
    providers: SearchProviders | None = None,
    refine: str = "background",
) -> SearchAnswer:
    """Run a search. `refine`: `background` (answer at once, analyse the query image in the
    background), `inline` (analyse it first: one refined answer) or `never`."""
    if refine not in REFINE_MODES:
        raise ValueError(f"refine must be one of {REFINE_MODES}")
    query = query_cropped(query=query)  # from here on, the image is the part asked for
    config = search_config()
    providers = with_analysis_options(providers or search_providers(), query.analysis)
    state, inputs = state_encode(query=query, providers=providers, config=config)
    text_overrides = description_from_text(state.text) if state.text else {}
    if query.image is not None and providers.describer is not None and refine != "never":
        _query_described(state, query, providers, refine=refine, text_overrides=text_overrides)
    elif text_overrides and not state.description:
        state.description = text_overrides
    ran = {}
    if query.image is not None:
        # The checks read the image strategy's closest hits: it runs now, and not again.
        ran = image_strategy_ran(state, config, inputs, query.filters)
        vector = image_query_vector(state, config)
        closest = closest_of(state, config, ran)
        image_checks(
            state, query.image.pixels, config, vector, filters=query.filters, closest=closest
        )
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
    return answer(
        state, config, filters=query.filters, inputs=inputs, save_state=not pending, ran=ran
    )


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
    return answer(state, search_config(), filters=filters_parse(raw=state.filters))
