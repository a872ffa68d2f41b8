"""Issue 14: private catalogs against a live server — a private catalog's materials, search
results, stored answers, "similar" lists and pages are visible only to staff and to the keys
and users granted it; everyone else gets 404, never 403 (BOLA: another key's private catalog)."""

from __future__ import annotations

import base64

import pytest
from django.contrib.auth import get_user_model

from access.models import PrivateCatalog
from access.privacy import catalog_privacy_set
from tests.api import http
from tests.api.conftest import auth
from tests.search.catalog_support import COLORS, png

pytestmark = pytest.mark.django_db(transaction=True)
GREY = base64.b64encode(png(COLORS["grey"])).decode()


@pytest.fixture
def private(sample_catalog, make_key, settings):
    """`other` (Slate's catalog) is private; one key is granted it, one is not."""
    settings.SWATCH_API_ANONYMOUS = True
    slate = sample_catalog["slate"]
    catalog_privacy_set(catalog=slate.catalog, private=True)
    granted = make_key(name="granted", catalogs=[slate.catalog]).secret
    other = make_key(name="someone else").secret
    return slate, auth(granted), auth(other)


def _names(answer) -> set[str]:
    return {r["name"] for r in answer.json()["results"]}


def _search(url, headers, **payload):
    return http.post(f"{url}/api/v1/search/", json=payload, headers=headers)


def test_the_api_answers_404_for_a_private_catalog_to_everyone_not_granted(
    live_server, providers, private
):
    slate, granted, other = private
    url = live_server.url
    for headers in (other, {}):  # another key, and an anonymous caller
        for path in (f"/api/v1/materials/{slate.pk}/", f"/api/v1/materials/{slate.pk}/similar/"):
            answer = http.get(url + path, headers=headers)
            assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found")
        by_id = _search(url, headers, material_id=slate.pk)
        assert by_id.status_code == 404
        listed = http.get(f"{url}/api/v1/materials/", headers=headers).json()["results"]
        assert "Slate" not in {m["name"] for m in listed}
        assert "Slate" not in _names(_search(url, headers, image=GREY))
        assert _names(_search(url, headers, text="stone", filters={"catalog": "other"})) == set()
    # the key granted it sees all of it
    assert http.get(f"{url}/api/v1/materials/{slate.pk}/", headers=granted).status_code == 200
    assert _search(url, granted, material_id=slate.pk).status_code == 200
    assert "Slate" in _names(_search(url, granted, image=GREY))


def test_a_stored_answer_shows_another_key_only_what_it_may_see(live_server, providers, private):
    slate, granted, other = private
    mine = _search(live_server.url, granted, image=GREY)
    assert "Slate" in _names(mine)
    stored = f"{live_server.url}/api/v1/search/{mine.json()['query_id']}/"

    theirs = http.get(stored, headers=other)
    paged = http.get(stored, headers=other, params={"page": 1, "limit": 10})

    assert theirs.status_code == 200
    assert "Slate" not in _names(theirs)
    assert "Slate" not in _names(paged)
    assert "Slate" in _names(http.get(stored, headers=granted))


def test_pages_hide_a_private_catalog_from_everyone_but_staff_and_members(
    live_server, providers, private, sample_catalog, client
):
    slate = private[0]
    url = live_server.url
    detail = http.get(f"{url}/materials/{slate.pk}/")
    searched = http.get(f"{url}/", params={"text": "grey stone"})
    browsed = http.get(f"{url}/", params={"material_type": "stone"})
    similar = http.get(f"{url}/materials/{sample_catalog['carrara'].pk}/")

    assert detail.status_code == 404
    assert "Slate" not in searched.text
    assert "Slate" not in browsed.text
    assert "Slate" not in similar.text
    # a member of the catalog, and staff, see it
    member = get_user_model().objects.create_user("member", password="pw-member-1")
    PrivateCatalog.objects.get().members.add(member)
    client.force_login(member)
    assert client.get(f"/materials/{slate.pk}/").status_code == 200
    staff = get_user_model().objects.create_user("boss", password="pw-boss-1", is_staff=True)
    client.force_login(staff)
    assert client.get(f"/materials/{slate.pk}/").status_code == 200
    # and what the others did not see was there to see
    assert "Slate" in client.get("/", {"material_type": "stone"}).content.decode()
    assert "Slate" in client.get("/", {"text": "grey stone"}).content.decode()
    assert "Slate" in client.get(f"/materials/{sample_catalog['carrara'].pk}/").content.decode()


def _page_post(url: str, path: str, data: dict, session=None):
    """A form post as a browser makes it: the CSRF cookie from a page first."""
    import requests

    session = session or requests.Session()
    session.get(f"{url}/", timeout=http.TIMEOUT)
    token = session.cookies.get("csrftoken", "")
    return session.post(
        url + path, data=data, headers={"X-CSRFToken": token, "Referer": f"{url}/"},
        timeout=http.TIMEOUT, allow_redirects=False,
    )  # fmt: skip


def test_feedback_and_flags_on_a_private_catalogs_material_are_404_to_everyone_not_granted(
    live_server, providers, private
):
    from search.background import background_wait

    slate, granted, other = private
    url = live_server.url
    mine = _search(url, granted, image=GREY)
    assert "Slate" in _names(mine)
    background_wait()  # the search is recorded after its answer
    query_id = mine.json()["query_id"]
    vote = {"query_id": query_id, "material_id": slate.pk, "kind": "good"}
    unknown = {**vote, "material_id": 10**9}

    for headers in (other, {}):  # another key, and an anonymous caller
        for body in (vote, {**vote, "kind": "click", "position": 1}, unknown):
            answer = http.post(f"{url}/api/v1/feedback/", json=body, headers=headers)
            assert answer.status_code == 404, answer.text
            assert answer.json()["error"]["code"] == "material_not_found"
        flagged = http.post(
            f"{url}/api/v1/materials/{slate.pk}/flag/", json={"reason": "not slate"},
            headers=headers,
        )  # fmt: skip
        assert (flagged.status_code, flagged.json()["error"]["code"]) == (404, "material_not_found")
    # the pages' vote button, anonymous
    page_vote = _page_post(url, "/search/feedback/", {"vote": f"good {query_id} {slate.pk} 1"})
    assert page_vote.status_code == 404
    page_flag = _page_post(url, f"/materials/{slate.pk}/flag/", {"reason": "not slate"})
    assert page_flag.status_code == 404
    # the key granted the catalog gives feedback and flags
    assert http.post(f"{url}/api/v1/feedback/", json=vote, headers=granted).status_code == 201
    flagged = http.post(
        f"{url}/api/v1/materials/{slate.pk}/flag/", json={"reason": "not slate"}, headers=granted
    )
    assert flagged.status_code == 201


def _sidebar(html: str) -> str:
    """The search form's filters (the sidebar), where the facets' names and counts are."""
    start = html.index("<form")
    return html[start : html.index("</form>", start)]


def test_the_filter_sidebar_names_and_counts_no_private_catalog_to_those_not_granted(
    live_server, providers, private, sample_catalog, catalog_builder
):
    slate = private[0]
    url = live_server.url
    catalog_builder.add(
        "Private oak", COLORS["brown"], category="wood", material_type="wood", catalog="other"
    )
    # Slate is the only stone, the only honed material and the only one in catalog "other"
    seen = [
        _sidebar(http.get(f"{url}/", params=params).text)
        for params in ({}, {"text": "grey"}, {"finish": "polished"}, {"material_type": "marble"})
    ]
    partial = http.get(f"{url}/search/results/", params={"q": "0" * 32}).text
    for sidebar in seen:
        assert ">Other" not in sidebar
        assert 'value="other"' not in sidebar.lower()
        assert f'value="{slate.catalog_id}"' not in sidebar
        assert "Stone" not in sidebar
        assert "Honed" not in sidebar
    assert "Stone" not in partial
    assert "Honed" not in partial
    # the counts are of the visible materials only: oak and walnut, not the private oak
    for sidebar in seen[:2]:
        assert "Wood (2)" in sidebar
    # asking for the private catalog's id is as unknown as a catalog that does not exist
    asked = http.get(f"{url}/", params={"catalog": slate.catalog_id, "material_type": "stone"})
    assert "Slate" not in asked.text
    assert "Slate" not in http.get(f"{url}/", params={"catalog": 10**6}).text


def test_the_sidebar_shows_a_private_catalog_and_its_counts_to_a_member(
    providers, private, sample_catalog, catalog_builder, client
):
    slate = private[0]
    catalog_builder.add(
        "Private oak", COLORS["brown"], category="wood", material_type="wood", catalog="other"
    )
    member = get_user_model().objects.create_user("member", password="pw-member-1")
    PrivateCatalog.objects.get().members.add(member)
    anonymous = _sidebar(client.get("/").content.decode())
    client.force_login(member)
    sidebar = _sidebar(client.get("/").content.decode())
    assert f'value="{slate.catalog_id}"' in sidebar
    assert "Stone" in sidebar
    assert "Wood (3)" in sidebar
    assert f'value="{slate.catalog_id}"' not in anonymous
    assert "Stone" not in anonymous
    assert "Wood (2)" in anonymous
