"""A part of the image on the search page without a browser: the form's `crop` reaches the
service, stays on the page for the next search of the same image, and a bad one is a 400 in
the page's own style. (The box selection itself: tests/browser/test_pages_regions.py.)"""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from tests.search.catalog_support import COLORS, two_color_png
from tests.search.test_pages_views import card_ids, hidden, upload

pytestmark = pytest.mark.django_db

RIGHT_HALF = "0.5000,0.0000,0.5000,1.0000"


@pytest.fixture
def client():
    # An address of its own: rate limits are counted per IP in the shared cache.
    return Client(REMOTE_ADDR=f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.9")


def test_the_boxed_part_is_searched_and_kept_for_the_next_search(client, providers, sample_catalog):
    # given a photo half oak-brown (left), half navy (right)
    photo = two_color_png(COLORS["brown"], COLORS["navy"], size=(160, 80))

    # when the page posts it with the right half boxed
    page = client.post("/", {"image": upload(photo), "crop": RIGHT_HALF}).content.decode()

    # then the navy material comes first, and the box stays with the inline image
    assert card_ids(page)[0] == sample_catalog["navy"].pk
    assert hidden(page, "crop") == RIGHT_HALF
    data, token = hidden(page, "image_data"), hidden(page, "image_token")

    # when a filter is then applied to the same image and box (the inline copy is searched)
    again = client.post(
        "/", {"image_data": data, "image_token": token, "crop": RIGHT_HALF, "catalog": ""}
    ).content.decode()
    assert card_ids(again)[0] == sample_catalog["navy"].pk

    # and without the box the whole photo is searched again
    whole = client.post("/", {"image_data": data, "image_token": token}).content.decode()
    assert hidden(whole, "crop") == ""


@pytest.mark.parametrize(
    ("crop", "message"),
    [
        ("0.5,0,0.7,1", "inside the image"),
        ("left,top", "could not be read"),
        ("0,0,0.01,1", "Select a larger part"),
    ],
)
def test_a_bad_box_is_a_400_on_the_page(client, providers, sample_catalog, crop, message):
    photo = two_color_png(COLORS["brown"], COLORS["navy"], size=(160, 80))

    response = client.post("/", {"image": upload(photo), "crop": crop})

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="search-error"' in page
    assert message in page
