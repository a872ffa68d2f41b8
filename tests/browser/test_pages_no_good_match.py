"""An image that is not a material, searched from the page: the nearest materials are listed,
each marked "not a good match", in the fast page and in the refined one; "No good match" is
announced once refined, never while the analysis is pending."""

from __future__ import annotations

from PIL import Image, ImageDraw

from tests.browser.test_pages_search import search_with_file, wait_refined
from tests.conftest import SHARED_DATA

NONMATERIALS = SHARED_DATA.parent / "nonmaterials" / "images"


def _drawing(path):
    """A child's drawing of a house: outlines on white."""
    image = Image.new("RGB", (320, 260), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([80, 120, 240, 240], fill=(250, 220, 120), outline="black", width=4)
    draw.polygon([(70, 125), (160, 50), (250, 125)], fill=(200, 40, 40), outline="black")
    draw.ellipse([255, 15, 305, 65], fill=(255, 210, 0), outline="black", width=3)
    image.save(path, "PNG")
    return path


# One synchronous read of the section: the page swaps it when refinement lands, so reading
# its phase and its cards in separate calls could mix the fast page with the refined one.
SNAPSHOT = """
const section = document.getElementById("results");
return {
  refinement: section.getAttribute("data-refinement"),
  announced: !!section.querySelector("#no-match"),
  notice: (section.querySelector("#no-match") || {}).textContent || "",
  count: (section.querySelector(".results-head .count") || {}).textContent || "",
  scores: [...section.querySelectorAll(".card .score")].map(
    (s) => [s.textContent, s.classList.contains("good")]),
};
"""


def _snapshot(driver) -> dict:
    return driver.execute_script(SNAPSHOT)


def _every_card_not_good(page: dict) -> None:
    assert page["scores"], "the nearest materials are listed"
    for text, good in page["scores"]:
        assert "not a good match" in text
        assert not good, text


def test_what_is_not_a_material_is_no_good_match_on_the_page_in_both_phases(
    browser, live_url, analysed_catalog, tmp_path
):
    for path in (NONMATERIALS / "horse.png", _drawing(tmp_path / "drawing.png")):
        search_with_file(browser, live_url, path)
        # the first page, fast or already refined: nearest listed, none a good match
        first = _snapshot(browser)
        _every_card_not_good(first)
        if first["refinement"] == "pending":
            assert not first["announced"], "announced while pending"
            assert "closest materials so far" in first["count"], first["count"]
        # the refined page says so, and still lists the nearest, marked
        wait_refined(browser)
        refined = _snapshot(browser)
        assert refined["announced"]
        assert "No good match" in refined["notice"]
        assert "marked as not good matches" in refined["notice"]
        _every_card_not_good(refined)
