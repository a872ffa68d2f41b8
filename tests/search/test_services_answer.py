"""search/services/answer.py: a state's answer — fused, cut where good matches end, paged — and
the same query answered again from the answer cache."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from search.background import background_wait
from search.conf import search_config
from search.query import SearchQuery, filters_parse
from search.services.answer import answer
from search.services.encode import state_encode
from tests.search.queries import work_statements

pytestmark = pytest.mark.django_db


def _state(providers, **query):
    config = search_config()
    state, _ = state_encode(query=SearchQuery(**query), providers=providers, config=config)
    return state, config, filters_parse(raw=state.filters)


def test_the_same_query_again_is_answered_from_the_cache(providers, sample_catalog):
    # given a "more like this" answered once
    first_state, config, filters = _state(providers, material_id=sample_catalog["oak"].pk)
    first = answer(first_state, config, filters=filters)
    background_wait()  # the answer is cached in the background

    # when the same query runs again (a new query id)
    again_state, _, _ = _state(providers, material_id=sample_catalog["oak"].pk)
    with CaptureQueriesContext(connection) as captured:
        again = answer(again_state, config, filters=filters)

    # then the cached answer comes under the new id, without a search statement
    assert again.query_id == again_state.query_id != first.query_id
    assert [r.material_id for r in again.results] == [r.material_id for r in first.results]
    assert work_statements(captured) == []


def test_without_the_cutoff_every_other_material_is_ranked_and_paged(providers, sample_catalog):
    state, config, filters = _state(
        providers, material_id=sample_catalog["oak"].pk, cutoff=False, limit=3, page=2
    )

    found = answer(state, config, filters=filters)

    assert found.total == len(sample_catalog) - 1
    assert (found.page, found.limit, len(found.results)) == (2, 3, 3)
    assert sample_catalog["oak"].pk not in {r.material_id for r in found.results}
