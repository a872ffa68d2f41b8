"""Feedback through the API: searches recorded without their image, votes (one per user and
result), clicks with their position, conversions, rate limits; flags on a description that
put it in the review queue until a curator decides."""

from __future__ import annotations

import base64
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from analysis.curation.selectors import review_queue
from analysis.curation.services import analysis_approve
from analysis.models import AnalysisFlag
from search.feedback.models import FeedbackEvent, SearchRecord
from tests.search.catalog_support import COLORS, png

pytestmark = pytest.mark.django_db
GENEROUS = {"burst": "1000/1s", "minute": "10000/60s", "hour": "100000/3600s"}


@pytest.fixture(autouse=True)
def generous(settings):
    settings.SWATCH_SEARCH = {
        **settings.SWATCH_SEARCH,
        "RATES": GENEROUS,
        "FEEDBACK_RATES": {"feedback": "1000/60s"},
    }


def search(api, **body):
    response = api.post("/api/v1/search/", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def feedback(api, **body):
    return api.post("/api/v1/feedback/", body, format="json")


def test_a_search_is_recorded_with_its_hash_and_results(providers, sample_catalog):
    api = APIClient()
    answer = search(api, text="oak", filters={"catalog": "test"})
    again = search(api, text="oak", filters={"catalog": "test"})

    record = SearchRecord.objects.get(query_id=answer["query_id"])
    assert record.kind == "text"
    assert record.surface == "api"
    assert record.text == "oak"
    assert record.result_ids == [r["material_id"] for r in answer["results"]]
    assert record.results == answer["total"] > 0
    assert record.catalog.name == "test"
    # the same query hashes the same; a different one does not
    assert SearchRecord.objects.get(query_id=again["query_id"]).query_hash == record.query_hash
    other = search(api, text="walnut")
    assert SearchRecord.objects.get(query_id=other["query_id"]).query_hash != record.query_hash


def test_an_image_search_is_recorded_without_its_image(providers, sample_catalog):
    data = png(COLORS["brown"])
    upload = SimpleUploadedFile("q.png", data, content_type="image/png")
    answer = APIClient().post("/api/v1/search/", {"image": upload}, format="multipart").json()

    row = SearchRecord.objects.filter(query_id=answer["query_id"]).values().get()
    stored = json.dumps(row, default=str)
    assert row["kind"] == "image"
    assert row["text"] == ""
    assert base64.b64encode(data).decode()[:40] not in stored
    assert data[:16].hex() not in stored


def test_one_vote_per_user_and_result_a_new_one_replacing_the_old(providers, sample_catalog):
    api, oak = APIClient(), sample_catalog["oak"]
    query_id = search(api, text="oak")["query_id"]

    first = feedback(api, query_id=query_id, material_id=oak.pk, kind="good")
    changed = feedback(api, query_id=query_id, material_id=oak.pk, kind="bad")
    user = get_user_model().objects.create_user("designer", password="pw-12345678")
    signed_in = APIClient()
    signed_in.force_authenticate(user)
    other = feedback(signed_in, query_id=query_id, material_id=oak.pk, kind="good")

    assert (first.status_code, changed.status_code, other.status_code) == (201, 200, 201)
    assert changed.json()["replaced"] is True
    votes = FeedbackEvent.objects.filter(search__query_id=query_id, kind__in=["good", "bad"])
    assert sorted((v.voter.split(":")[0], v.kind) for v in votes) == [
        ("ip", "bad"),
        ("user", "good"),
    ]
    assert first.json()["position"] == 1  # oak is the first result of "oak"
    record = SearchRecord.objects.get(query_id=query_id)
    assert {v.query_hash for v in votes} == {record.query_hash}


def test_clicks_keep_their_position_and_conversions_are_events(providers, sample_catalog):
    api, walnut = APIClient(), sample_catalog["walnut"]
    query_id = search(api, text="wood")["query_id"]

    for body in (
        {"kind": "click", "position": 3},
        {"kind": "click", "position": 3},
        {"kind": "sample_requested"},
        {"kind": "saved"},
    ):
        response = feedback(api, query_id=query_id, material_id=walnut.pk, **body)
        assert response.status_code == 201, response.content

    events = FeedbackEvent.objects.filter(search__query_id=query_id).order_by("pk")
    assert [(e.kind, e.position) for e in events][:2] == [("click", 3), ("click", 3)]
    assert [e.kind for e in events][2:] == ["sample_requested", "saved"]
    assert {e.catalog_id for e in events} == {walnut.catalog_id}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"query_id": "0" * 32, "material_id": 1, "kind": "good"}, 404, "query_id"),
        ({"query_id": "nope", "material_id": 1, "kind": "good"}, 400, "query_id"),
        ({"query_id": None, "kind": "good"}, 400, "query_id"),
        ({"kind": "great"}, 400, "kind"),
        ({"kind": "click", "position": 0}, 400, "position"),
        ({"material_id": 999999999, "kind": "good"}, 404, "material_id"),
    ],
)
def test_bad_feedback_is_a_4xx_naming_the_field(providers, sample_catalog, body, status, field):
    api = APIClient()
    query_id = search(api, text="oak")["query_id"]
    body = {"query_id": query_id, "material_id": sample_catalog["oak"].pk, **body}
    body = {k: v for k, v in body.items() if v is not None}  # None: left out

    response = feedback(api, **body)

    assert response.status_code == status
    assert response.json()["error"]["field"] == field


def test_feedback_is_rate_limited(providers, sample_catalog, settings):
    api = APIClient()
    query_id = search(api, text="oak")["query_id"]
    settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "FEEDBACK_RATES": {"feedback": "2/60s"}}
    body = {"query_id": query_id, "material_id": sample_catalog["oak"].pk, "kind": "click"}

    statuses = [feedback(api, **body).status_code for _ in range(3)]

    assert statuses == [201, 201, 429]
    assert FeedbackEvent.objects.filter(kind="click").count() == 2


def test_a_flag_puts_the_description_in_the_review_queue_until_a_curator_decides(
    providers, sample_catalog
):
    navy = sample_catalog["navy"]
    analysis = navy.images.get().analysis
    assert not review_queue().filter(pk=analysis.pk).exists()

    response = APIClient().post(
        f"/api/v1/materials/{navy.pk}/flag/",
        {"reason": "this is leather, not fabric"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["reason"] == "this is leather, not fabric"
    queued = review_queue().get(pk=analysis.pk)
    assert queued.has_open_flag
    curator = get_user_model().objects.create_user("curator", is_staff=True)
    analysis_approve(analysis=analysis, actor=curator)
    assert not review_queue().filter(pk=analysis.pk).exists()
    assert AnalysisFlag.objects.get(pk=response.json()["id"]).resolved_at is not None


def test_a_flag_needs_a_reason_and_a_material(providers, sample_catalog):
    api = APIClient()
    empty = api.post(
        f"/api/v1/materials/{sample_catalog['oak'].pk}/flag/", {"reason": " "}, format="json"
    )
    missing = api.post("/api/v1/materials/999999/flag/", {"reason": "wrong"}, format="json")

    assert (empty.status_code, empty.json()["error"]["field"]) == (400, "reason")
    assert (missing.status_code, missing.json()["error"]["field"]) == (404, "material_id")


def test_a_catalog_site_posts_conversions_with_its_key(providers, sample_catalog):
    from access.services import key_create

    owner = get_user_model().objects.create_user("site-owner")
    oak, slate = sample_catalog["oak"], sample_catalog["slate"]  # catalogs "test" and "other"
    issued = key_create(name="shop", owner=owner, catalogs=[oak.catalog])
    site = APIClient()
    site.credentials(HTTP_AUTHORIZATION=f"Api-Key {issued.secret}")
    query_id = search(site, text="wood")["query_id"]

    sample = feedback(site, query_id=query_id, material_id=oak.pk, kind="sample_requested")
    votes = [
        feedback(site, query_id=query_id, material_id=oak.pk, kind="good", visitor=v)
        for v in ("visitor-1", "visitor-2", "visitor-1")
    ]
    other = feedback(site, query_id=query_id, material_id=slate.pk, kind="saved")

    assert sample.status_code == 201
    assert [v.status_code for v in votes] == [201, 201, 200]  # one vote per visitor
    assert (other.status_code, other.json()["error"]["field"]) == (403, "material_id")
    voters = set(FeedbackEvent.objects.filter(kind="good").values_list("voter", flat=True))
    assert voters == {f"key:{issued.key.prefix}:visitor-1", f"key:{issued.key.prefix}:visitor-2"}
