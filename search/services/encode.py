"""A query's state: its vectors encoded (cached by the hash of what was encoded), and for a
"more like this" the material's stored inputs, read in one query."""

from __future__ import annotations

from search.conf import SearchConfig
from search.covering import fallback_encode
from search.encoding import query_image_vector, query_text_vector
from search.errors import SearchError
from search.providers import SearchProviders
from search.query import SearchQuery
from search.selectors import MaterialQueryInputs, material_query_inputs
from search.services.vectors import image_negatives, semantic_parts
from search.state import QueryState, new_query_id


def material_inputs(state: QueryState) -> MaterialQueryInputs | None:
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
        image_values=any(n is not None for n in image_negatives(state)),
        text_values=any(
            p is not None for p in [*semantic_parts(state), state.negative_text_vector]
        ),
    )


def state_encode(
    *, query: SearchQuery, providers: SearchProviders, config: SearchConfig
) -> tuple[QueryState, MaterialQueryInputs | None]:
    image_embedder, text_embedder = providers.image_embedder, providers.text_embedder
    state = QueryState(
        query_id=new_query_id(),
        text=query.text.strip(),
        negative_text=query.negative_text.strip(),
        material_id=query.material_id,
        filters=query.filters.raw,
        weights=query.weights,
        fusion=query.fusion,
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
        state.image_vector = query_image_vector(
            pixels=query.image.pixels, sha256=query.image.sha256, embedder=image_embedder
        )
    fallback_encode(state=state, query=query, providers=providers)
    if query.negative_image is not None:
        state.negative_image_vector = query_image_vector(
            pixels=query.negative_image.pixels,
            sha256=query.negative_image.sha256,
            embedder=image_embedder,
        )
    if text_embedder is not None:
        if state.text:
            state.text_vector = query_text_vector(text=state.text, embedder=text_embedder)
        if state.negative_text:
            state.negative_text_vector = query_text_vector(
                text=state.negative_text, embedder=text_embedder
            )
    # One query for a material id: 404 before anything else, the description properties
    # matching uses, and the stored vectors the strategies search with.
    inputs = material_inputs(state)
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
