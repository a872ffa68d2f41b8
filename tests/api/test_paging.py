"""Issue 14: `GET /api/v1/search/{query_id}/?page=&limit=` pages a stored answer without a new
upload and without counting as a search."""

from __future__ import annotations

import base64

import pytest

from tests.api import http
from tests.search.catalog_support import COLORS, png

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_stored_image_answer_is_paged_without_a_new_upload_or_search(
    live_server, providers, sample_catalog, settings
):
    settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "RATES": {"burst": "1/60s"}}
    image = base64.b64encode(png(COLORS["brown"])).decode()
    first = http.post(f"{live_server.url}/api/v1/search/", json={"image": image, "limit": 2})
    assert first.status_code == 200, first.text
    query_id = first.json()["query_id"]
    url = f"{live_server.url}/api/v1/search/{query_id}/"

    second = http.get(url, params={"page": 2, "limit": 2})
    everything = http.get(url, params={"limit": 6})
    again = http.post(f"{live_server.url}/api/v1/search/", json={"image": image, "limit": 2})

    assert second.status_code == 200, second.text
    page2, whole = second.json(), everything.json()
    assert (page2["page"], page2["limit"]) == (2, 2)
    ids = [r["material_id"] for r in whole["results"]]
    assert [r["material_id"] for r in first.json()["results"]] == ids[:2]
    assert [r["material_id"] for r in page2["results"]] == ids[2:4]
    assert page2["total"] == first.json()["total"]
    # the paging did not use the search quota (a burst of 1): the search said so, not paging
    assert second.headers["RateLimit-Policy"] != first.headers["RateLimit-Policy"]
    assert again.status_code == 429


@pytest.mark.parametrize(
    ("params", "field"), [({"page": 0}, "page"), ({"limit": "x"}, "limit"), ({"pg": 2}, "pg")]
)
def test_bad_paging_parameters_answer_400_naming_them(
    live_server, providers, sample_catalog, params, field
):
    query_id = http.post(f"{live_server.url}/api/v1/search/", json={"text": "oak"}).json()[
        "query_id"
    ]
    answer = http.get(f"{live_server.url}/api/v1/search/{query_id}/", params=params)

    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == field
