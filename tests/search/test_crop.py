"""Searching a part of an image (`crop` on the search API): the service cuts the image before
anything looks at it. Real Postgres + pgvector, real small providers, the refinement thread."""

import io

import pytest
from PIL import Image
from rest_framework.test import APIClient

from search.crop import ImageCrop, crop_parse, cropped_sha256, pixels_cropped
from search.errors import SearchError
from tests.search.catalog_support import COLORS, png, two_color_png
from tests.search.test_api import error_of, ids, post, wait_refined

pytestmark = pytest.mark.django_db

LEFT_HALF = {"x": 0, "y": 0, "width": 0.5, "height": 1}
RIGHT_HALF = {"x": 0.5, "y": 0, "width": 0.5, "height": 1}


@pytest.fixture
def client():
    return APIClient()


def test_a_crop_searches_only_that_part_of_the_image(client, providers, sample_catalog, gate):
    # given a photo whose left half is oak-brown and whose right half is marble-white
    photo = two_color_png(COLORS["brown"], COLORS["white"], size=(200, 120))
    gate.set()

    # when each half is searched by its crop
    left = post(client, image=photo, crop=LEFT_HALF)
    right = post(client, image=photo, crop=RIGHT_HALF)

    # then each finds the material of its own half first, also once refined
    assert left.status_code == 200, left.content
    assert ids(left.json())[0] == sample_catalog["oak"].pk
    assert ids(right.json())[0] == sample_catalog["carrara"].pk
    refined_left = wait_refined(client, left.json()["query_id"])
    refined_right = wait_refined(client, right.json()["query_id"])
    assert refined_left["query_description"]["material_type"] == "wood"
    assert refined_right["query_description"]["material_type"] == "marble"
    assert ids(refined_right)[0] == sample_catalog["carrara"].pk


def test_a_crop_in_a_multipart_form_is_json_text(client, providers, sample_catalog):
    photo = two_color_png(COLORS["green"], COLORS["navy"], size=(160, 80))

    answer = post(client, image=photo, crop={"x": 0.5, "y": 0, "width": 0.5, "height": 1})

    assert answer.status_code == 200, answer.content
    assert ids(answer.json())[0] == sample_catalog["navy"].pk


def test_a_part_is_analysed_as_itself_not_from_the_whole_images_cache(
    client, providers, sample_catalog, gate
):
    # given the whole photo searched and analysed (its description cached by its hash)
    photo = two_color_png(COLORS["brown"], COLORS["white"], left_share=0.75, size=(200, 100))
    gate.set()
    whole = wait_refined(client, post(client, image=photo).json()["query_id"])
    assert whole["query_description"]["material_type"] == "wood"
    calls = providers.describer.calls

    # when only its white part is searched
    white = {"x": 0.75, "y": 0, "width": 0.25, "height": 1}
    part = wait_refined(client, post(client, image=photo, crop=white).json()["query_id"])

    # then the part was analysed on its own: white marble, not the whole photo's wood
    assert providers.describer.calls == calls + 1
    assert part["query_description"]["material_type"] == "marble"


@pytest.mark.parametrize(
    ("crop", "field"),
    [
        ({"x": 0, "y": 0, "width": 1.5, "height": 1}, "crop.width"),
        ({"x": "left", "y": 0, "width": 1, "height": 1}, "crop.x"),
        ({"x": 0, "y": 0, "width": 1}, "crop.height"),
        ({"x": 0, "y": 0, "width": 1, "height": 1, "zoom": 2}, "crop.zoom"),
        ({"x": 0.6, "y": 0, "width": 0.6, "height": 1}, "crop"),
        ({"x": 0, "y": 0, "width": 0, "height": 1}, "crop"),
        ({"x": True, "y": 0, "width": 1, "height": 1}, "crop.x"),
    ],
)
def test_a_bad_crop_is_a_400_naming_the_field(client, providers, crop, field):
    error = error_of(post(client, image=png(COLORS["brown"]), crop=crop))

    assert (error["code"], error["field"]) == ("invalid_crop", field)


def test_a_crop_that_is_not_an_object_is_a_400(client, providers):
    response = client.post(
        "/api/v1/search/",
        {"image": png_upload(), "crop": "[0, 0, 1, 1]"},
        format="multipart",
    )

    error = error_of(response)
    assert error["field"] == "crop"


def test_a_crop_without_an_image_is_a_400(client, providers):
    error = error_of(post(client, text="oak", crop=LEFT_HALF))

    assert (error["code"], error["field"]) == ("crop_without_image", "crop")


def test_a_part_too_small_to_search_is_a_400_saying_its_size(client, providers, settings):
    # 64 × 48 px: 10% of its width is 6 px, under the smallest side the intake accepts
    error = error_of(
        post(client, image=png(COLORS["brown"]), crop={"x": 0, "y": 0, "width": 0.1, "height": 1})
    )

    assert (error["code"], error["field"]) == ("crop_too_small", "crop")
    assert f"at least {settings.SWATCH['MIN_IMAGE_SIDE']} px" in error["message"]
    assert "6×48 px" in error["message"]


def test_the_box_in_pixels_and_the_name_of_a_part():
    crop = crop_parse(raw={"x": 0.25, "y": 0.5, "width": 0.5, "height": 0.5})
    image = Image.new("RGB", (400, 200))

    assert crop.box(width=400, height=200) == (100, 100, 300, 200)
    assert pixels_cropped(pixels=image, crop=crop, min_side=16).size == (200, 100)
    # a part is named apart from the whole; the whole image keeps its own hash
    assert cropped_sha256(sha256="ab" * 32, crop=crop) != "ab" * 32
    whole = ImageCrop(x=0, y=0, width=1, height=1)
    assert cropped_sha256(sha256="ab" * 32, crop=whole) == "ab" * 32
    # a box that ends a rounding error past the edge is the edge
    edge = crop_parse(raw={"x": 0.5, "y": 0, "width": 0.5004, "height": 1})
    assert edge.width == 0.5
    with pytest.raises(SearchError):
        crop_parse(raw={"x": 0.5, "y": 0, "width": 0.51, "height": 1})


def png_upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), COLORS["brown"]).save(buffer, "PNG")
    return SimpleUploadedFile("image.png", buffer.getvalue(), content_type="image/png")
