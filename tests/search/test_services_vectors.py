"""search/services/vectors.py: the query vector each vector strategy searches with, against
vectors worked out by hand (no database: pure arithmetic on the query's state)."""

import dataclasses

import numpy as np
import pytest

from search.selectors import MaterialQueryInputs
from search.services.vectors import image_query_vector, semantic_query_vector
from search.state import QueryState
from search.strategies.vector import StoredVector

CONFIG = type("Config", (), {"negative_weight": 0.5})()


def unit(*values):
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def state(**fields):
    return QueryState(query_id="q", image_model="img", text_model="txt", **fields)


def test_an_image_vector_moves_away_from_its_negative():
    # q = (1, 0), n = (0, 1), w = 0.5: q − w·n = (1, −0.5), renormalised
    found = image_query_vector(
        state(image_vector=unit(1, 0), negative_image_vector=unit(0, 1)), CONFIG
    )
    np.testing.assert_allclose(found, unit(1, -0.5), rtol=1e-6)


def test_text_searches_images_only_in_a_shared_space():
    separate = state(text_vector=unit(3, 4))
    shared = dataclasses.replace(separate, text_model="img")  # CLIP-like: one space
    assert image_query_vector(separate, CONFIG) is None
    np.testing.assert_allclose(image_query_vector(shared, CONFIG), unit(3, 4), rtol=1e-6)


def test_a_plain_more_like_this_reads_the_stored_vector_by_id():
    inputs = MaterialQueryInputs(description={}, image_embedding_id=41, text_embedding_id=42)
    assert image_query_vector(state(material_id=1), CONFIG, inputs) == StoredVector(41)
    assert semantic_query_vector(state(material_id=1), CONFIG, inputs) == StoredVector(42)


def test_the_semantic_vector_sums_text_description_and_material_then_subtracts():
    # (1,0,0) + (0,1,0) + (0,0,1) normalised: each 1/√3; minus 0.5 · (1,0,0); renormalised
    inputs = MaterialQueryInputs(description={}, text_vector=unit(0, 0, 1), text_embedding_id=9)
    found = semantic_query_vector(
        state(
            material_id=1,
            text_vector=unit(1, 0, 0),
            description_vector=unit(0, 1, 0),
            negative_text_vector=unit(1, 0, 0),
        ),
        CONFIG,
        inputs,
    )
    third = 1 / np.sqrt(3)
    np.testing.assert_allclose(found, unit(third - 0.5, third, third), rtol=1e-6)


def test_nothing_to_search_with_is_none():
    assert semantic_query_vector(state(), CONFIG) is None
    assert image_query_vector(state(), CONFIG) is None


def test_state_vectors_are_float32_arrays_until_stored():
    # a state read back from the store has lists: arrays again, and lists when stored
    loaded = QueryState(query_id="q", image_vector=[0.6, 0.8])
    assert loaded.image_vector.dtype == np.float32
    assert loaded.as_data()["image_vector"] == pytest.approx([0.6, 0.8])
    assert isinstance(loaded.as_data()["image_vector"], list)
