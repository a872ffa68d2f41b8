"""The query vectors the vector strategies search with, from a query's state and the
material's stored inputs: positives summed, negatives subtracted, L2-normalised."""

from __future__ import annotations

import numpy as np

from search.conf import SearchConfig
from search.encoding import away as _away
from search.encoding import unit
from search.selectors import MaterialQueryInputs
from search.state import QueryState
from search.strategies.vector import QueryVector, StoredVector


def image_negatives(state: QueryState) -> list[np.ndarray | None]:
    negatives = [state.negative_image_vector]
    if shared_space(state):
        negatives.append(state.negative_text_vector)
    return negatives


def shared_space(state: QueryState) -> bool:
    """Image and text in one embedding space (CLIP-like): text can search images."""
    return bool(state.text_model) and state.text_model == state.image_model


def semantic_parts(state: QueryState) -> list[np.ndarray | None]:
    """What the semantic query vector sums besides the material's own description vector."""
    return [state.text_vector, state.description_vector]


def image_query_vector(
    state: QueryState, config: SearchConfig, inputs: MaterialQueryInputs | None = None
) -> QueryVector | None:
    vector = state.image_vector
    if vector is None and inputs is not None:
        if inputs.image_vector is None and inputs.image_embedding_id is not None:
            return StoredVector(inputs.image_embedding_id)  # nothing to subtract from it
        vector = inputs.image_vector
    if vector is None and shared_space(state):
        vector = state.text_vector  # text→image search (CLIP-like embedders)
    return _away(vector, image_negatives(state), config.negative_weight)


def semantic_query_vector(
    state: QueryState, config: SearchConfig, inputs: MaterialQueryInputs | None = None
) -> QueryVector | None:
    parts = semantic_parts(state)
    if inputs is not None and state.text_model:
        if inputs.text_vector is None and inputs.text_embedding_id is not None:
            return StoredVector(inputs.text_embedding_id)  # nothing to add or subtract
        parts.append(inputs.text_vector)
    present = [p for p in parts if p is not None]
    if not present:
        return None
    return _away(
        unit(np.sum(present, axis=0)), [state.negative_text_vector], config.negative_weight
    )
