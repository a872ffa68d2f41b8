"""search/services/encode.py: a query's state — its vectors encoded as the embedders give them,
the configured weights, and for a "more like this" the material's stored inputs."""

import numpy as np
import pytest

from search.conf import search_config
from search.errors import SearchError
from search.query import SearchQuery
from search.services.encode import state_encode

pytestmark = pytest.mark.django_db


def test_a_text_query_is_encoded_once_by_the_text_embedder(providers):
    query = SearchQuery(text="  warm oak  ", negative_text="grey")

    state, inputs = state_encode(query=query, providers=providers, config=search_config())

    expected = providers.text_embedder.embed_texts(["warm oak"]).vectors[0]
    assert state.text == "warm oak"
    np.testing.assert_allclose(state.text_vector, expected / np.linalg.norm(expected), rtol=1e-6)
    assert state.text_vector.dtype == np.float32
    assert state.negative_text_vector is not None
    assert state.weights == search_config().weights  # the configured ones, applied by the query
    assert (state.image_vector, inputs) == (None, None)


def test_a_more_like_this_carries_the_materials_description_and_stored_ids(
    providers, sample_catalog
):
    query = SearchQuery(material_id=sample_catalog["oak"].pk)

    state, inputs = state_encode(query=query, providers=providers, config=search_config())

    assert state.description["material_type"] == "wood"
    assert inputs.description == state.description
    # nothing to add or subtract: the ids are read, not the values
    assert inputs.image_embedding_id is not None
    assert inputs.image_vector is None


def test_an_unknown_material_is_a_404_naming_the_field(providers, sample_catalog):
    with pytest.raises(SearchError) as refused:
        state_encode(
            query=SearchQuery(material_id=10**9), providers=providers, config=search_config()
        )
    assert (refused.value.status, refused.value.field) == (404, "material_id")
