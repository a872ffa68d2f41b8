"""L2 normalisation, the one place embedders, the quality check and the search's query
vectors scale a vector to unit length."""

import numpy as np

from analysis.vectors import l2_normalise


def test_a_batch_is_scaled_row_by_row_to_unit_length():
    batch = np.array([[3.0, 4.0], [0.0, 2.0]])

    unit = l2_normalise(batch)

    assert unit.dtype == np.float32
    np.testing.assert_allclose(unit, [[0.6, 0.8], [0.0, 1.0]], rtol=1e-6)


def test_one_vector_is_scaled_to_unit_length():
    np.testing.assert_allclose(l2_normalise(np.array([1.0, 2.0, 2.0])), [1 / 3, 2 / 3, 2 / 3])


def test_a_zero_vector_stays_zero_instead_of_becoming_nan():
    assert not l2_normalise(np.zeros((2, 3))).any()
