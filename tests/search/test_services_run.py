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


def _image_searches(monkeypatch) -> list[dict]:
    """The image-index searches a search makes, by their arguments: the real function is
    called; only the calls are recorded (the property under test is how many there are)."""
    import search.services.strategy_lists as strategy_lists
    import search.strategies.vector as vector

    calls: list[dict] = []
    real = vector.vector_search_with_rows

    def recorded(**search):
        if search.get("kind", "image") == "image":
            calls.append(search)
        return real(**search)

    monkeypatch.setattr(vector, "vector_search_with_rows", recorded)
    monkeypatch.setattr(strategy_lists, "vector_search_with_rows", recorded)
    return calls


def _nearest_by_numpy(providers, query: SearchQuery, count: int) -> set[int]:
    """The `count` materials nearest the query image by cosine, worked out here over every
    stored image vector: the expectation, independent of the index and of the service."""
    import numpy as np

    from analysis.models import Embedding

    vector = providers.image_embedder.embed_images([query.image.pixels]).vectors[0]
    rows = list(Embedding.objects.filter(kind="image").values_list("image__material_id", "vector"))
    stored = np.array([v for _, v in rows], dtype=np.float64)
    cosine = stored @ vector / (np.linalg.norm(stored, axis=1) * np.linalg.norm(vector))
    return {rows[i][0] for i in np.argsort(-cosine)[:count]}


def _image_query(rgb, **options) -> SearchQuery:
    from search.query_images import query_image_decode
    from tests.search.catalog_support import png

    return SearchQuery(image=query_image_decode(png(rgb)), cutoff=False, **options)


def test_an_image_search_verifies_the_image_strategys_closest_hits_without_a_second_query(
    providers, sample_catalog, settings, monkeypatch
):
    from search.state import query_state_load
    from tests.search.catalog_support import COLORS

    settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "VERIFY_TOP": 3}
    searches = _image_searches(monkeypatch)

    query = _image_query(COLORS["brown"])
    found = search_run(query=query, refine="never")

    assert len(searches) == 1  # the image strategy's, whose hits the checks read
    state = query_state_load(query_id=found.query_id)
    assert {int(pk) for pk in state.sample_inliers} == _nearest_by_numpy(providers, query, 3)
    assert state.material_probability is None or 0 <= state.material_probability <= 1


def test_without_the_image_strategy_the_checks_read_their_own_candidates(
    providers, sample_catalog, settings, monkeypatch
):
    from search.state import query_state_load
    from tests.search.catalog_support import COLORS

    settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "VERIFY_TOP": 3, "VERIFY_EXTEND": 0}
    searches = _image_searches(monkeypatch)

    query = _image_query(COLORS["brown"], weights={"semantic": 1})
    found = search_run(query=query, refine="never")

    assert [s["limit"] for s in searches] == [5]  # max(VERIFY_TOP, the typicality's 5)
    state = query_state_load(query_id=found.query_id)
    assert {int(pk) for pk in state.sample_inliers} == _nearest_by_numpy(providers, query, 3)
    # verification may look further (none of the first 3 is the same sample): read as deep
    settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "VERIFY_EXTEND": 8}
    search_run(query=_image_query(COLORS["brown"], weights={"semantic": 1}), refine="never")
    assert [s["limit"] for s in searches] == [5, 8]
