"""The pages' feedback endpoints without a browser: a card's vote (JSON for the script, a
redirect back without it), bad votes as 4xx naming the field, a click recorded as the material
page opens (and a bad one never breaking the page), the flag form's errors."""

from __future__ import annotations

import pytest
from django.test import Client

from analysis.models import AnalysisFlag
from search.feedback.models import FeedbackEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def generous(settings):
    settings.SWATCH_SEARCH = {
        **settings.SWATCH_SEARCH,
        "RATES": {"burst": "1000/1s", "minute": "10000/60s", "hour": "100000/3600s"},
        "FEEDBACK_RATES": {"feedback": "1000/60s"},
    }


def page_search(client, text="oak") -> str:
    page = client.get("/", {"text": text}).content.decode()
    marker = 'data-query-id="'
    return page.split(marker, 1)[1].split('"', 1)[0]


def test_a_cards_vote_is_json_for_the_script_and_a_redirect_without_it(providers, sample_catalog):
    client, oak = Client(), sample_catalog["oak"]
    query_id = page_search(client)
    vote = f"good {query_id} {oak.pk} 1"

    scripted = client.post("/search/feedback/", {"vote": vote}, HTTP_ACCEPT="application/json")
    plain = client.post(
        "/search/feedback/",
        {"vote": f"bad {query_id} {oak.pk} 1"},
        HTTP_REFERER="http://testserver/?text=oak",
    )

    assert (scripted.status_code, scripted.json()) == (200, {"kind": "good", "replaced": False})
    assert plain.status_code == 302
    assert plain["Location"] == f"http://testserver/?text=oak#card-{oak.pk}"
    # one vote for this browser's session: the second replaced the first
    assert list(FeedbackEvent.objects.values_list("kind", "position")) == [("bad", 1)]
    assert FeedbackEvent.objects.get().voter.startswith("session:")


@pytest.mark.parametrize(
    ("vote", "status", "field"),
    [
        ("great q 1 1", 400, "vote"),
        ("good", 400, "vote"),
        (f"good {'0' * 32} 1 1", 404, "query_id"),
    ],
)
def test_a_bad_vote_is_a_4xx_naming_the_field(providers, sample_catalog, vote, status, field):
    response = Client().post("/search/feedback/", {"vote": vote})
    assert response.status_code == status
    assert response.json()["error"]["field"] == field


def test_a_vote_elsewhere_is_sent_back_home_not_off_site(providers, sample_catalog):
    client, oak = Client(), sample_catalog["oak"]
    query_id = page_search(client)
    response = client.post(
        "/search/feedback/",
        {"vote": f"good {query_id} {oak.pk} 1"},
        HTTP_REFERER="https://evil.example/phish",
    )
    assert response["Location"] == f"/#card-{oak.pk}"


def test_opening_a_card_records_the_click_and_a_bad_one_is_ignored(providers, sample_catalog):
    client, walnut = Client(), sample_catalog["walnut"]
    query_id = page_search(client, "wood")

    opened = client.get(f"/materials/{walnut.pk}/", {"q": query_id, "pos": "2"})
    stale = client.get(f"/materials/{walnut.pk}/", {"q": "0" * 32, "pos": "2"})

    assert opened.status_code == stale.status_code == 200
    clicks = FeedbackEvent.objects.filter(kind="click")
    assert [(c.search.query_id, c.material_id, c.position) for c in clicks] == [
        (query_id, walnut.pk, 2)
    ]


def test_the_flag_forms_errors(providers, sample_catalog):
    client, oak = Client(), sample_catalog["oak"]

    empty = client.post(f"/materials/{oak.pk}/flag/", {"reason": "  "})
    missing = client.post("/materials/999999/flag/", {"reason": "wrong"})
    done = client.post(f"/materials/{oak.pk}/flag/", {"reason": "this is walnut"})

    assert empty.status_code == 400
    assert 'id="flag-error"' in empty.content.decode()
    assert missing.status_code == 404
    assert done.status_code == 302
    assert done["Location"].endswith("?flagged=1#flag")
    assert AnalysisFlag.objects.get().reason == "this is walnut"


def test_the_search_records_list_links_to_the_feedback_dashboard(admin_client):
    page = admin_client.get("/admin/search/searchrecord/").content.decode()
    assert 'href="/admin/search/searchrecord/dashboard/"' in page
