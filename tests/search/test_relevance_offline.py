"""Trustworthy relevance with the offline defaults (EfficientNet-Lite0, MiniLM, the offline
analyser, the shipped calibration), through the API and the pages, on a catalog of real
textures: non-materials get no good match in either phase yet see the nearest materials; a
phone photo of a sample finds it in the fast answer; the image strategy's top ten stay in the
refined top fifty; scores are probabilities; designers' words find their material."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from rest_framework.test import APIClient

from search.evaluation.augment import phone_photo
from search.evaluation.harness import labelled_catalog
from tests.conftest import SHARED_DATA
from tests.search.labelled_textures import labelled_textures

pytestmark = pytest.mark.django_db(transaction=True)
PER_CATEGORY = 3
RED_BRICK = "sh3d__smallRedBricks.png"


@pytest.fixture
def textures(tmp_path) -> Path:
    """A few labelled textures of each category (and the one red brick), as a folder."""
    return labelled_textures(tmp_path / "textures", per_category=PER_CATEGORY, also=RED_BRICK)


# Many searches from one client: rate limits (tested elsewhere) out of the way.
GENEROUS = {"burst": "1000/1s", "minute": "10000/60s", "hour": "100000/3600s"}


@pytest.fixture
def catalog(textures, settings):
    settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "RATES": GENEROUS}
    with labelled_catalog(path=textures, labels=textures / "labels.csv") as harness:
        yield harness


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _search(client, data: bytes, **extra) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("query.png", data, content_type="image/png")
    response = client.post("/api/v1/search/", {"image": upload, **extra}, format="multipart")
    assert response.status_code == 200, response.content
    return response.json()


def _refined(client, answer: dict, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while answer["phase"] != "refined" and time.monotonic() < deadline:
        time.sleep(0.1)
        answer = client.get(f"/api/v1/search/{answer['query_id']}/").json()
    assert answer["phase"] == "refined", "the refined answer never came"
    return answer


def _drawing() -> Image.Image:
    """A child's house: walls, a roof, a door, windows, a sun — outlines on white."""
    image = Image.new("RGB", (320, 260), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([80, 120, 240, 240], fill=(250, 220, 120), outline="black", width=4)
    draw.polygon([(70, 125), (160, 50), (250, 125)], fill=(200, 40, 40), outline="black")
    draw.rectangle([145, 180, 180, 240], fill=(120, 70, 30), outline="black", width=3)
    draw.rectangle([100, 145, 130, 175], fill=(150, 200, 250), outline="black", width=3)
    draw.ellipse([255, 15, 305, 65], fill=(255, 210, 0), outline="black", width=3)
    return image


def _not_materials() -> dict[str, bytes]:
    rng = np.random.default_rng(7)
    queries = {
        path.name: path.read_bytes()
        for path in sorted((SHARED_DATA.parent / "nonmaterials" / "images").glob("*.png"))
    }
    queries["drawing"] = _png(_drawing())
    queries["solid colour"] = _png(Image.new("RGB", (300, 300), (230, 0, 200)))
    queries["noise"] = _png(Image.fromarray(rng.integers(0, 256, (300, 300, 3), dtype=np.uint8)))
    return queries


def test_what_is_not_a_material_gets_no_good_match_yet_sees_the_nearest(catalog):
    client = APIClient()
    for name, data in _not_materials().items():
        fast = _search(client, data)
        refined = _refined(client, fast)
        for answer in (fast, refined):
            assert answer["good_matches"] == 0, (name, answer["phase"], answer["results"][:1])
            assert answer["no_good_match"] is True
            assert len(answer["results"]) == 20, name  # the nearest, all the same
            assert all(0 <= r["score"] < 0.5 and not r["good"] for r in answer["results"])
        assert refined["message"].startswith("No material matches this query well")


def test_a_sample_is_found_again_from_a_phone_photo_and_from_other_bytes(catalog):
    client = APIClient()
    rng = np.random.default_rng(0)
    for item, pixels in list(zip(catalog.items, catalog.pixels, strict=True))[::6]:
        # a phone photo of it: the sample among the fast answer's first three
        fast = _search(client, phone_photo(pixels, rng=rng))
        assert item.material_id in [r["material_id"] for r in fast["results"][:3]], item
        refined = _refined(client, fast)
        scores = [r["score"] for r in fast["results"] + refined["results"]]
        assert all(0.0 <= s <= 1.0 for s in scores)
        # the same pixels in other bytes: itself first, a verified same sample, ≥ 0.99 alike
        again = _search(client, _png(pixels))
        top = again["results"][0]
        assert top["material_id"] == item.material_id
        assert top["scores"]["vector"] >= 0.99
        assert top["explanation"]["verdicts"].get("same_sample") == "matches"
        assert "differs" not in top["explanation"]["verdicts"].values()
        assert top["good"] is True


def test_the_image_strategys_top_ten_stay_in_the_refined_top_fifty(catalog):
    client = APIClient()
    rng = np.random.default_rng(1)
    for pixels in catalog.pixels[1::8]:
        data = phone_photo(pixels, rng=rng)
        image_only = _search(client, data, weights='{"vector": 1}', limit=10)
        refined = _refined(client, _search(client, data, limit=50))
        first_fifty = {r["material_id"] for r in refined["results"][:50]}
        assert {r["material_id"] for r in image_only["results"][:10]} <= first_fifty


def test_designers_words_find_their_material_and_verdicts_agree(catalog):
    client = APIClient()
    category_of = {item.material_id: item.category for item in catalog.items}
    planks = client.post("/api/v1/search/", {"text": "weathered wooden planks"}, format="json")
    assert category_of[planks.json()["results"][0]["material_id"]] == "wood"

    bricks = client.post("/api/v1/search/", {"text": "red brick", "limit": 50}, format="json")
    red = next(r for r in bricks.json()["results"] if r["name"].lower() == "smallredbricks")
    assert red["explanation"]["verdicts"].get("colors") in ("matches", "close")

    # and the page says it in words, with the relevance as a match percentage
    page = client.get("/", {"text": "red brick"}).content.decode()
    card = page[page.index(f'data-material-id="{red["material_id"]}"') :]
    card = card[: card.index("</li>\n", card.index("More like this"))]
    assert re.search(r"<data value=\"[0-9.]+\">\d+%</data> match", card)
    assert 'data-attribute="colors" data-verdict="differs"' not in card
