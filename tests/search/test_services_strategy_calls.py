"""search/services/strategy_calls.py: how a vector strategy is called — its rows read along,
else the properties candidates read right after it."""

from functools import partial

import numpy as np
import pytest

from search.conf import search_config
from search.query import filters_parse
from search.services.strategy_calls import and_candidates, vector_tuning, with_rows
from search.strategies.vector import vector_search_with_rows
from tests.search.providers import IMAGE_MODEL

pytestmark = pytest.mark.django_db


def _search(sample_catalog, raw_filters):
    stored = sample_catalog["oak"].images.get().embeddings.get(kind="image", model=IMAGE_MODEL)
    return partial(
        vector_search_with_rows,
        vector=np.asarray(stored.vector, dtype=np.float32),
        model=IMAGE_MODEL,
        dimensions=stored.dimensions,
        filters=filters_parse(raw=raw_filters),
        limit=4,
        threshold=0.0,
        **vector_tuning(search_config()),
    )


def test_with_rows_reads_the_rows_of_the_best_only(sample_catalog):
    hits, rows = with_rows(_search(sample_catalog, {}), best=2)()

    assert len(hits) == 4
    assert list(rows) == [h.material_id for h in hits[:2]]


def test_a_filtered_search_gets_its_candidates_read_after_it(sample_catalog):
    hits, candidates = and_candidates(
        _search(sample_catalog, {"category": "wood"}), filters_parse(raw={"category": "wood"})
    )()

    assert {h.material_id for h in hits} == {sample_catalog["oak"].pk, sample_catalog["walnut"].pk}
    assert set(candidates) == {h.material_id for h in hits}
    assert {c.category for c in candidates.values()} == {"wood"}
