"""A description a curator rejected no longer speaks for its material in search."""

import pytest
from rest_framework.test import APIClient

from analysis.curation.services import analysis_reject
from analysis.models import AnalysisStatus, VisualAnalysis
from search.query import filters_parse
from search.strategies.semantic import semantic_search
from tests.search.providers import TEXT_MODEL, WordsEmbedder
from tests.search.test_api import post


@pytest.mark.django_db
def test_a_rejected_description_no_longer_matches_its_attributes(
    catalog_builder, providers, admin_user, django_capture_on_commit_callbacks
):
    # given a material described as cork, and one described as wood
    cork = catalog_builder.add("sample one", (180, 140, 90), material_type="cork")
    catalog_builder.add("sample two", (120, 80, 40), material_type="wood")

    def cork_match():
        answer = post(APIClient(), text="cork", filters={"catalog": "test"}).json()
        hit = next((r for r in answer["results"] if r["material_id"] == cork.pk), None)
        return hit and hit["explanation"]["matched"].get("material_type")

    # then a text search for cork matches it by its material type
    assert cork_match() is True
    # when a curator rejects that description
    analysis = VisualAnalysis.objects.get(image__material=cork)
    with django_capture_on_commit_callbacks(execute=True):
        analysis_reject(analysis=analysis, actor=admin_user)
    assert VisualAnalysis.objects.get(pk=analysis.pk).status == AnalysisStatus.REJECTED
    # then the same search no longer matches it as cork
    assert not cork_match()


@pytest.mark.django_db
@pytest.mark.parametrize("filters", [{}, {"catalog": "test"}], ids=["index", "filtered"])
def test_a_rejected_descriptions_embedding_no_longer_matches(
    catalog_builder, providers, admin_user, filters
):
    # given a material described as cork, and one described as wood
    cork = catalog_builder.add("sample one", (180, 140, 90), material_type="cork")
    catalog_builder.add("sample two", (120, 80, 40), material_type="wood")
    query = WordsEmbedder().embed_texts(["cork"]).vectors[0]

    def similarity():
        hits = semantic_search(vector=query, model=TEXT_MODEL, dimensions=64, text="",
                               filters=filters_parse(raw=filters), limit=10)  # fmt: skip
        return next((h.details["similarity"] for h in hits if h.material_id == cork.pk), None)

    # then its description's embedding is compared with the query
    assert similarity() is not None
    # when a curator rejects that description
    analysis_reject(analysis=VisualAnalysis.objects.get(image__material=cork), actor=admin_user)
    # then its embedding no longer speaks for the material either (by index or by filtered scan)
    assert similarity() is None
