"""search/services/strategy_lists.py: the weighted strategies' ranked lists, and the result
rows they read on the way (returned, not filled into an argument)."""

import pytest

from search.conf import search_config
from search.query import SearchQuery, filters_parse
from search.services.encode import state_encode
from search.services.strategy_lists import strategy_lists

pytestmark = pytest.mark.django_db


def _lists(providers, query):
    config = search_config()
    state, inputs = state_encode(query=query, providers=providers, config=config)
    return strategy_lists(state, config, inputs, filters_parse(raw=state.filters))


def test_each_weighted_strategy_lists_the_others_and_the_rows_come_along(providers, sample_catalog):
    oak = sample_catalog["oak"]
    query = SearchQuery(material_id=oak.pk, weights={"vector": 1, "properties": 1, "semantic": 1})

    lists, rows = _lists(providers, query)

    assert set(lists) == {"vector", "semantic", "properties"}
    for hits in lists.values():
        assert oak.pk not in {h.material_id for h in hits}  # never the material itself
    assert lists["vector"][0].material_id == sample_catalog["walnut"].pk  # the nearest colour
    assert lists["properties"][0].material_id == sample_catalog["walnut"].pk  # wood, grain
    found = {h.material_id for hits in lists.values() for h in hits}
    assert rows
    assert set(rows) <= found
    assert rows[sample_catalog["walnut"].pk][1] == "Walnut"


def test_a_weight_of_zero_leaves_its_strategy_out(providers, sample_catalog):
    query = SearchQuery(material_id=sample_catalog["oak"].pk, weights={"vector": 1})

    lists, _ = _lists(providers, query)

    assert set(lists) == {"vector"}


def test_the_filters_given_are_the_ones_applied(providers, sample_catalog):
    query = SearchQuery(
        material_id=sample_catalog["oak"].pk,
        weights={"vector": 1},
        filters=filters_parse(raw={"material_type": "stone"}),
    )

    lists, _ = _lists(providers, query)

    assert [h.material_id for h in lists["vector"]] == [sample_catalog["slate"].pk]
