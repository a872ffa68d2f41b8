"""search/services/run.py: the entry points — a new search, and an earlier one's answer by its
query id, paged."""

import pytest

from search.errors import SearchError
from search.query import SearchQuery
from search.services.run import search_answer_get, search_run

pytestmark = pytest.mark.django_db


def test_an_earlier_answer_is_paged_by_its_query_id(providers, sample_catalog):
    first = search_run(
        query=SearchQuery(material_id=sample_catalog["oak"].pk, cutoff=False, limit=2),
        refine="never",
    )

    second_page = search_answer_get(query_id=first.query_id, page=2)
    whole = search_answer_get(query_id=first.query_id, page=1, limit=6)

    assert [r.material_id for r in whole.results] == [
        r.material_id for r in first.results + second_page.results + whole.results[4:]
    ]
    assert second_page.query_id == first.query_id


def test_an_unknown_query_id_is_a_404(providers):
    with pytest.raises(SearchError) as refused:
        search_answer_get(query_id="0" * 32)
    assert (refused.value.code, refused.value.status) == ("query_not_found", 404)


def test_an_unknown_refine_mode_is_refused(providers, sample_catalog):
    with pytest.raises(ValueError, match="refine must be one of"):
        search_run(query=SearchQuery(text="oak"), refine="later")
