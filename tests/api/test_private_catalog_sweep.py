"""Issue 14, the sweep: every route of every app (the URLconf, walked) has a private-catalog
case against a live server — another key's (or an anonymous caller's) request for something of
a private catalog answers 404, or, for lists and stored answers, leaves it out; the key granted
it gets it. A new route without a case fails `test_every_route_has_a_private_catalog_case`."""

from __future__ import annotations

import base64

import pytest
import requests
from django.urls import URLResolver, get_resolver

from access.privacy import catalog_privacy_set
from materials.models import CatalogWriteJob, MaterialImage
from search.background import background_wait
from tests.api import http
from tests.api.conftest import auth
from tests.search.catalog_support import COLORS, png

pytestmark = pytest.mark.django_db(transaction=True)
GREY = base64.b64encode(png(COLORS["grey"])).decode()
WRITE = ["search", "catalog:read", "catalog:write"]

# Routes with no catalog data of their own, and why.
EXEMPT = {
    "admin/": "staff only, and staff see every catalog",
    "api/schema/": "the OpenAPI schema: no catalog data",
    "api/docs/": "the schema's browser page: no catalog data",
    "healthz": "checked below: names no catalog",
    "readyz": "checked below: names no catalog",
    "metrics": "operators only (token or address): checked below that others are refused",
}
API = "test_the_api_hides_a_private_catalog_from_another_key"
CATALOG_API = "test_the_catalog_api_answers_404_for_a_private_catalog_to_another_writer"
PAGES = "test_the_pages_hide_a_private_catalog_from_others"
FEEDBACK = "test_private_catalogs.py: test_feedback_and_flags_…_are_404_to_everyone_not_granted"
CASES = {
    "api/v1/search/": API,
    "api/v1/search/<str:query_id>/": API,
    "api/v1/materials/": API,
    "api/v1/materials/<id:material_id>/": API,
    "api/v1/materials/<id:material_id>/similar/": API,
    "api/v1/materials/<id:material_id>/flag/": FEEDBACK,
    "api/v1/feedback/": FEEDBACK,
    "api/v1/catalogs/<int:catalog_id>/materials/": CATALOG_API,
    "api/v1/catalogs/<int:catalog_id>/materials/bulk/": CATALOG_API,
    "api/v1/catalogs/<int:catalog_id>/materials/<int:material_id>/": CATALOG_API,
    "api/v1/catalog-jobs/<int:job_id>/": CATALOG_API,
    "": PAGES,
    "search/results/": PAGES,
    "materials/<id:material_id>/": PAGES,
    "materials/<id:material_id>/flag/": FEEDBACK,
    "search/feedback/": FEEDBACK,
    "^media/(?P<path>.*)$": "test_private_media.py (every file and URL form), and " + PAGES,
}


def _routes(patterns=None, prefix: str = ""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver) and route != "admin/":
            yield from _routes(pattern.url_patterns, route)
        else:
            yield route


def test_every_route_has_a_private_catalog_case():
    routes = set(_routes())
    assert routes == set(CASES) | set(EXEMPT), "a route without a private-catalog case"


@pytest.fixture
def private(sample_catalog, make_key, settings):
    settings.SWATCH_API_ANONYMOUS = True
    slate = sample_catalog["slate"]
    catalog_privacy_set(catalog=slate.catalog, private=True)
    granted = auth(make_key(name="granted", scopes=WRITE, catalogs=[slate.catalog]).secret)
    other = auth(make_key(name="someone else", scopes=WRITE).secret)
    return slate, granted, other


def _names(answer: requests.Response) -> set[str]:
    return {r["name"] for r in answer.json()["results"]}


def test_the_api_hides_a_private_catalog_from_another_key(live_server, providers, private):
    slate, granted, other = private
    url = f"{live_server.url}/api/v1"
    mine = http.post(f"{url}/search/", json={"image": GREY}, headers=granted)
    stored = f"{url}/search/{mine.json()['query_id']}/"
    for headers in (other, {}):
        by_id = http.post(f"{url}/search/", json={"material_id": slate.pk}, headers=headers)
        assert by_id.status_code == 404
        image_search = http.post(f"{url}/search/", json={"image": GREY}, headers=headers)
        assert "Slate" not in _names(image_search)
        assert "Slate" not in _names(http.get(stored, headers=headers))
        assert "Slate" not in _names(http.get(stored, headers=headers, params={"page": 1}))
        assert "Slate" not in _names(http.get(f"{url}/materials/", headers=headers))
        for path in (f"/materials/{slate.pk}/", f"/materials/{slate.pk}/similar/"):
            assert http.get(url + path, headers=headers).status_code == 404
    assert "Slate" in _names(mine)
    assert "Slate" in _names(http.get(stored, headers=granted))
    assert http.get(f"{url}/materials/{slate.pk}/similar/", headers=granted).status_code == 200


def test_the_catalog_api_answers_404_for_a_private_catalog_to_another_writer(live_server, private):
    slate, granted, other = private
    url = f"{live_server.url}/api/v1/catalogs/{slate.catalog_id}/materials"
    job = CatalogWriteJob.objects.create(catalog=slate.catalog, items=[], status="done")
    jobs = f"{live_server.url}/api/v1/catalog-jobs/{job.pk}/"
    one = f"{url}/{slate.pk}/"
    # another writer: 404 as for a catalog that does not exist; anonymous: 401 as anywhere
    for headers, status in ((other, 404), ({}, 401)):
        answers = [
            http.post(f"{url}/", json={"name": "Mine now", "sku": "X-1"}, headers=headers),
            http.post(f"{url}/bulk/", json={"items": [{"sku": "X-2"}]}, headers=headers),
            requests.patch(one, json={"name": "Renamed"}, headers=headers, timeout=http.TIMEOUT),
            requests.delete(one, headers=headers, timeout=http.TIMEOUT),
            http.get(jobs, headers=headers),
        ]
        assert [a.status_code for a in answers] == [status] * 5, [a.text[:80] for a in answers]
    slate.refresh_from_db()
    assert slate.name == "Slate"
    assert slate.catalog.materials.count() == 1
    # the granted writer reaches all of it
    assert http.get(jobs, headers=granted).status_code == 200
    renamed = requests.patch(one, json={"name": "Renamed"}, headers=granted, timeout=60)
    assert renamed.status_code == 200


def test_the_pages_hide_a_private_catalog_from_others(live_server, providers, private):
    slate, granted, _ = private
    url = live_server.url
    mine = http.post(f"{url}/api/v1/search/", json={"image": GREY}, headers=granted).json()
    background_wait()
    query_id = mine["query_id"]
    image = MaterialImage.objects.get(material=slate)

    like = http.get(f"{url}/", params={"like": slate.pk})
    assert like.status_code == 404
    assert "Slate" not in like.text
    for page in (
        http.get(f"{url}/", params={"q": query_id}),
        http.get(f"{url}/search/results/", params={"q": query_id}),
        http.get(f"{url}/", params={"text": "grey slate stone"}),
    ):
        assert page.status_code == 200, page.url
        assert "Slate" not in page.text, page.url
        assert image.thumbnail.name not in page.text
    # a value only the private catalog holds is as unknown as one nobody holds
    stone = http.get(f"{url}/", params={"material_type": "stone"})
    unheard_of = http.get(f"{url}/", params={"material_type": "plutonium"})
    assert stone.status_code == unheard_of.status_code
    assert "Slate" not in stone.text
    assert http.get(f"{url}/materials/{slate.pk}/").status_code == 404
    assert http.get(f"{url}/media/{image.image.name}").status_code == 404


def test_the_operators_routes_name_no_catalog_to_others(live_server, private, settings):
    slate = private[0]
    settings.SWATCH_METRICS = {**settings.SWATCH_METRICS, "TOKEN": None, "ALLOWED_IPS": []}
    for path in ("/healthz", "/readyz"):
        assert slate.catalog.name not in http.get(live_server.url + path).text.lower().split('"')
    assert http.get(f"{live_server.url}/metrics").status_code in (401, 403)
