import numpy as np
import pytest
from django.db import connection

from search.strategies.sql import vector_literal

pytestmark = pytest.mark.django_db


def test_a_vector_literal_reads_back_as_the_same_float32_vector():
    vector = np.random.default_rng(5).normal(size=1704).astype(np.float32)
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::vector::real[]", [vector_literal(vector)])
        (stored,) = cursor.fetchone()
    np.testing.assert_allclose(np.asarray(stored, dtype=np.float32), vector, rtol=1e-6)


def test_small_and_empty_vectors_format_plainly():
    assert vector_literal(np.array([0.5, -1e-9, 3.0])) == "[0.5,-1e-09,3]"
    assert vector_literal(np.array([])) == "[]"
