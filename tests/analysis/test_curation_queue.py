"""The review queue in the admin: what enters it, its order, filters, search and columns."""

from __future__ import annotations

import pytest

from analysis.curation.selectors import (
    ORDER_OLDEST,
    review_queue,
    review_queue_next,
)
from analysis.curation.services import analysis_approve, analysis_flag
from analysis.models import AnalysisStatus
from tests.analysis.curation_support import (
    analysed_catalog,
    client_for,
    make_curator,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pipeline_settings")]

QUEUE = "/admin/analysis/reviewqueueitem/"


def _listed(response) -> list[int]:
    """Analysis ids in the order the changelist shows them."""
    return [obj.pk for obj in response.context["cl"].result_list]


@pytest.fixture
def catalog(shared_data):
    # (type, confidence, age in hours): None = the analysis failed
    return analysed_catalog(
        shared_data,
        [
            ("stone", 0.55, 1),  # 0 needs review
            ("wood", 0.95, 9),  # 1 confident: not in the queue
            ("brick", 0.30, 2),  # 2 needs review, least confident
            ("metal", None, 3),  # 3 failed: no confidence at all
            ("tile", 0.55, 8),  # 4 same confidence as 0, older
            ("fabric", 0.85, 5),  # 5 confident, but a user flags it
        ],
    )


def test_queue_holds_unsure_failed_and_flagged_analyses_least_confident_then_oldest_first(
    catalog, admin_client
):
    # given a user's flag on a confident analysis
    analysis_flag(analysis=catalog[5], actor=None, reason="this is leather, not fabric")

    # when a curator opens the queue
    response = admin_client.get(QUEUE)

    # then failed (no confidence) first, then by confidence, ties oldest first; the confident
    # unflagged analysis is not there
    assert response.status_code == 200
    assert catalog[3].status == AnalysisStatus.FAILED
    assert catalog[0].status == AnalysisStatus.NEEDS_REVIEW
    expected = [catalog[i].pk for i in (3, 2, 4, 0, 5)]
    assert _listed(response) == expected
    assert [a.pk for a in review_queue()] == expected


def test_queue_can_be_read_oldest_first(catalog, admin_client):
    # when the queue is sorted by its age column (oldest first)
    response = admin_client.get(QUEUE)
    columns = list(response.context["cl"].list_display)
    age_column = columns.index("age")
    oldest = admin_client.get(QUEUE, {"o": str(age_column)})

    # then the oldest analysis comes first
    expected = [catalog[i].pk for i in (4, 3, 2, 0)]
    assert _listed(oldest) == expected
    assert [a.pk for a in review_queue(order=ORDER_OLDEST)] == expected


def test_threshold_is_configurable(catalog, settings):
    # given a review threshold of 0.9 instead of 0.7
    settings.SWATCH = {**settings.SWATCH, "REVIEW_CONFIDENCE": 0.9}

    # then the 0.85 analysis is unsure too (completed analyses under the threshold)
    assert catalog[5].status == AnalysisStatus.COMPLETED
    assert catalog[5].pk in {a.pk for a in review_queue()}
    assert catalog[1].pk not in {a.pk for a in review_queue()}


def test_filters_by_status_source_model_band_catalog_and_search(catalog, admin_client, shared_data):
    # given another catalog with one unsure analysis
    (other,) = analysed_catalog(shared_data, [("grass", 0.4, 1)], catalog="other", skip=20)

    # status
    failed = admin_client.get(QUEUE, {"status__exact": "failed"})
    assert _listed(failed) == [catalog[3].pk]
    # confidence band 0.5–0.7
    band = admin_client.get(QUEUE, {"band": "0.5-0.7"})
    assert set(_listed(band)) == {catalog[0].pk, catalog[4].pk}
    none = admin_client.get(QUEUE, {"band": "none"})
    assert _listed(none) == [catalog[3].pk]
    # source and model
    offline = admin_client.get(QUEUE, {"source__exact": "offline", "model_id__exact": "px-1"})
    assert set(_listed(offline)) == {catalog[i].pk for i in (0, 2, 4)} | {other.pk}
    # catalog
    by_catalog = admin_client.get(QUEUE, {"image__catalog__id__exact": other.image.catalog_id})
    assert _listed(by_catalog) == [other.pk]
    # search by material name, and by SKU
    name = catalog[2].image.material.name
    assert _listed(admin_client.get(QUEUE, {"q": name})) == [catalog[2].pk]
    material = catalog[4].image.material
    material.sku = "SKU-TILE-4711"
    material.save(update_fields=["sku"])
    assert _listed(admin_client.get(QUEUE, {"q": "TILE-4711"})) == [catalog[4].pk]


def test_columns_show_thumbnail_material_type_confidence_source_model_and_age(
    catalog, admin_client
):
    response = admin_client.get(QUEUE)
    html = response.content.decode()
    row = catalog[2]
    assert f'src="{row.image.thumbnail.url}"' in html
    assert row.image.material.name in html
    assert ">0.30<" in html  # confidence, in red under the threshold
    assert "px-1" in html
    assert "Offline analyser" in html
    assert "hours" in html  # age
    for title in ("material type", "confidence", "source", "model id", "age"):
        assert title in html.lower()


def test_approved_analyses_leave_the_queue_and_next_walks_it_in_order(catalog):
    # given the least confident analysis that has a description, approved
    approved = review_queue().exclude(status=AnalysisStatus.FAILED).first()
    assert approved.pk == catalog[2].pk
    analysis_approve(analysis=approved, actor=None)

    # then it left the queue, and "next" after it is the one that followed it
    queue = [a.pk for a in review_queue()]
    assert queue == [catalog[i].pk for i in (3, 4, 0)]
    assert review_queue_next(after=approved).pk == catalog[4].pk
    walked = [queue[0]]
    current = review_queue().get(pk=queue[0])
    for _ in queue[1:]:
        current = review_queue_next(after=current)
        walked.append(current.pk)
    assert walked == queue
    assert review_queue_next(after=current).pk == queue[0]


def test_curator_sees_the_queue_and_link_from_the_app_index(catalog):
    client = client_for(make_curator())
    response = client.get("/admin/analysis/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/admin/analysis/reviewqueueitem/"' in html
    assert 'href="/admin/analysis/modelcall/costs/"' in html
    assert client.get(QUEUE).status_code == 200
