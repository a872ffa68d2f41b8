"""What a designer does on the search pages, in headless Chromium against a live server:
browsing by filters, searches that live in the address (Back, reload, shared links), the
filters and their chips, big phone photos, thumbnails, the keyboard, and axe-core's checks."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from PIL import Image
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from analysis.models import VisualAnalysis
from tests.browser.test_pages_search import cards, first_stem, phone_photo, wait, wait_refined

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"


def params(driver) -> dict[str, list[str]]:
    return parse_qs(urlparse(driver.current_url).query)


def results_kind(driver) -> str:
    return driver.find_element(By.ID, "results").get_attribute("data-kind")


def axe_violations(driver, within: str = "") -> list[dict]:
    """axe-core (npm, installed by ./swatch test) on the page as it is now (or the part of it
    the CSS selector `within` names)."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} missing: ./swatch test installs it (npm ci)")
    driver.execute_script(AXE.read_text())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const part = arguments[0] ? document.querySelector(arguments[0]) : document;"
        "axe.run(part, {resultTypes: ['violations']}).then(r => done(r.violations))"
        ".catch(e => done([{id: 'axe-error', help: String(e), nodes: []}]));",
        within,
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result
    ]


def test_filters_alone_browse_the_catalog_with_counts_chips_and_clear_all(
    browser, live_url, analysed_catalog
):
    # given the search page, no image and no text
    browser.get(f"{live_url}/?catalog={analysed_catalog.catalog.pk}")
    assert results_kind(browser) == "browse"
    # each material type offers its count under the chosen catalog
    select = Select(browser.find_element(By.ID, "id_material_type"))
    labels = {o.get_attribute("value"): o.text for o in select.options if o.get_attribute("value")}
    wood_type = analysis_type_of_most(analysed_catalog)
    expected = VisualAnalysis.objects.filter(
        image__catalog=analysed_catalog.catalog, material_type=wood_type
    ).count()
    assert labels[wood_type].endswith(f"({expected})")

    # when a material type is chosen (it applies at once, a GET of the search's address)
    old = browser.find_element(By.ID, "results")
    select.select_by_value(wood_type)
    wait(browser).until(EC.staleness_of(old))

    # then exactly the materials of that type are listed, and the address says so
    assert params(browser)["material_type"] == [wood_type]
    shown = cards(browser)
    assert len(shown) == expected
    for material_id in shown:
        assert VisualAnalysis.objects.get(image__material_id=material_id).material_type == wood_type
    assert f"{expected} material" in browser.find_element(By.CSS_SELECTOR, ".results .count").text
    # focus came back to the control that changed, so the keyboard can go on
    assert browser.switch_to.active_element.get_attribute("id") == "id_material_type"
    chips = browser.find_elements(By.CSS_SELECTOR, ".active-filters .chip-filter")
    assert {c.text.split(":")[0] for c in chips} == {"Catalog", "Material"}

    # when a colour chip of the legend is clicked, it filters too
    chip = browser.find_elements(By.CSS_SELECTOR, "#color-filter .color-chip:not(.any)")[0]
    colour = chip.find_element(By.TAG_NAME, "input").get_attribute("value")
    old = browser.find_element(By.ID, "results")
    chip.click()
    wait(browser).until(EC.staleness_of(old))
    assert params(browser)["color"] == [colour]

    # and "Clear all" takes every filter away
    browser.find_element(By.CSS_SELECTOR, ".active-filters .clear-all").click()
    wait(browser).until(lambda d: urlparse(d.current_url).query == "")
    assert not browser.find_elements(By.CSS_SELECTOR, ".active-filters")


def analysis_type_of_most(analysed_catalog) -> str:
    types = list(
        VisualAnalysis.objects.filter(image__catalog=analysed_catalog.catalog).values_list(
            "material_type", flat=True
        )
    )
    return max(set(types), key=types.count)


def test_a_text_search_lives_in_the_address_and_back_returns_to_the_page(
    browser, live_url, analysed_catalog, settings
):
    settings.SWATCH_PAGES = {**settings.SWATCH_PAGES, "PAGE_SIZE": 2}
    # when a designer types words and presses Enter
    browser.get(f"{live_url}/?catalog={analysed_catalog.catalog.pk}")
    box = browser.find_element(By.ID, "id_text")
    box.send_keys("brick", Keys.ENTER)
    wait(browser).until(lambda d: params(d).get("text") == ["brick"])
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#results .card")))

    # then the search is in the address (bookmarkable), and focus is on the results
    assert browser.switch_to.active_element.get_attribute("id") == "results-heading"
    first_page = cards(browser)

    # when the next page is opened, it is a new history entry
    browser.find_element(By.CSS_SELECTOR, ".pagination a[rel=next]").click()
    wait(browser).until(lambda d: params(d).get("page") == ["2"])
    wait(browser).until(
        lambda d: d.find_element(By.ID, "results").get_attribute("data-page") == "2"
    )
    assert set(cards(browser)).isdisjoint(first_page)

    # and Back returns to the page that was on
    browser.back()
    wait(browser).until(
        lambda d: d.find_element(By.ID, "results").get_attribute("data-page") == "1"
    )
    assert "page" not in params(browser)
    assert cards(browser) == first_page

    # and "more like this" is a search of its own address; Back returns from it too
    before = browser.current_url
    browser.find_element(By.CSS_SELECTOR, "#results .card .more-like").click()
    wait(browser).until(lambda d: "like" in params(d))
    assert browser.find_element(By.ID, "results-heading").text == "More like this"
    browser.back()
    wait(browser).until(lambda d: d.current_url == before)
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#results .card")))
    assert cards(browser) == first_page


def test_an_image_search_has_an_address_that_reloads_and_says_plainly_when_gone(
    browser, live_url, analysed_catalog, tmp_path
):
    # given an image search
    stem = first_stem(analysed_catalog, "wood")
    browser.get(f"{live_url}/")
    browser.find_element(By.ID, "id_image").send_keys(
        str(phone_photo(analysed_catalog.files[stem], tmp_path))
    )
    browser.find_element(By.ID, "search-button").click()
    wait(browser).until(lambda d: "q" in params(d))

    # then its address names the answer, and reloading it shows the same answer and image
    assert params(browser)["img"] == ["1"]
    wait_refined(browser)
    shown = cards(browser)
    browser.refresh()
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#results .card")))
    assert cards(browser) == shown
    assert browser.find_element(By.ID, "preview-img").get_attribute("src").startswith("data:")

    # and a filter applied now searches the same image again (kept in this tab only)
    select = Select(browser.find_element(By.ID, "id_catalog"))
    old = browser.find_element(By.ID, "results")
    select.select_by_value(str(analysed_catalog.catalog.pk))
    wait(browser).until(EC.staleness_of(old))
    assert analysed_catalog.materials[stem].pk in cards(browser)[:3]

    # and a link whose answer is gone says how to run it again, with its filters still set
    browser.get(f"{live_url}/?q={'0' * 32}&img=1&catalog={analysed_catalog.catalog.pk}")
    alert = browser.find_element(By.ID, "search-error")
    assert "This image search has expired" in alert.text
    assert "Choose the image again" in alert.text
    assert Select(browser.find_element(By.ID, "id_catalog")).first_selected_option.get_attribute(
        "value"
    ) == str(analysed_catalog.catalog.pk)


def test_a_big_phone_photo_is_scaled_down_in_the_browser_and_searched(
    browser, live_url, analysed_catalog, tmp_path
):
    # given a 50-megapixel photo of a catalog sample (more than the server's pixel cap)
    stem = first_stem(analysed_catalog, "brick")
    with Image.open(analysed_catalog.files[stem]) as original:
        big = original.convert("RGB").resize((8160, 6120), Image.Resampling.BILINEAR)
    path = tmp_path / f"phone-{uuid.uuid4().hex[:6]}.jpg"
    big.save(path, "JPEG", quality=85)
    assert 8160 * 6120 > settings.SWATCH["MAX_IMAGE_PIXELS"]

    # when it is chosen on the search page, whose limit is stated before any upload
    browser.get(f"{live_url}/")
    limit = browser.find_element(By.ID, "upload-limit").text
    assert f"{settings.SWATCH['MAX_UPLOAD_BYTES'] // (1024 * 1024)} MB" in limit
    assert "scaled down in your browser" in limit
    browser.find_element(By.ID, "id_image").send_keys(str(path))

    # then the browser scales it down before sending, and says so
    wait(browser).until(
        lambda d: d.find_element(By.ID, "id_image").get_attribute("data-sent-size") == "2560x1920"
    )
    assert "Scaled down from 8160 × 6120" in browser.find_element(By.ID, "scale-note").text
    size = browser.execute_script("return document.getElementById('id_image').files[0].size")
    assert size < path.stat().st_size
    # and the search runs on it and finds the sample
    browser.find_element(By.ID, "search-button").click()
    wait(browser).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "#results, #search-error"))
    )
    assert not browser.find_elements(By.ID, "search-error")
    assert analysed_catalog.materials[stem].pk in cards(browser)[:3]


@pytest.fixture
def photo_catalog(_browser_media):
    """A catalog of a landscape, a portrait and a small image, for the thumbnails."""
    from materials.services import catalog_delete, catalog_get_or_create, material_create_with_image

    catalog = catalog_get_or_create(name=f"Thumbnails {uuid.uuid4().hex[:6]}")
    made = {}
    for name, size in (("Landscape", (1400, 900)), ("Portrait", (700, 1300)), ("Small", (96, 180))):
        image = Image.new("RGB", size, (150, 110, 70))
        for x in range(0, size[0], 24):
            for y in range(size[1]):
                image.putpixel((x, y), (60, 40, 20))
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        made[name] = material_create_with_image(
            catalog=catalog, data=buffer.getvalue(), name=name
        ).image.material
    yield catalog, made
    catalog_delete(catalog=catalog)


def test_thumbnails_are_square_sharp_on_dense_screens_and_never_blown_up(
    browser, live_url, photo_catalog
):
    catalog, made = photo_catalog
    browser.get(f"{live_url}/?catalog={catalog.pk}")
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#results .card")))

    def thumb(material):
        return browser.find_element(By.CSS_SELECTOR, f'.card[data-material-id="{material.pk}"] img')

    wait(browser).until(
        lambda d: all(thumb(m).get_attribute("complete") == "true" for m in made.values())
    )
    for name in ("Landscape", "Portrait"):
        img = thumb(made[name])
        # a square crop, in 1x, 2x and 3x sizes for the screen to choose from
        assert "320w" in img.get_attribute("srcset")
        assert "640w" in img.get_attribute("srcset")
        rect = img.rect
        assert abs(rect["width"] - rect["height"]) <= 1, (name, rect)
        assert browser.execute_script(
            "return arguments[0].naturalWidth === arguments[0].naturalHeight", img
        )
    # the grid holds: every card's picture box is the same square
    boxes = {
        (round(e.rect["width"]), round(e.rect["height"]))
        for e in browser.find_elements(By.CSS_SELECTOR, ".card .thumb")
    }
    assert len(boxes) == 1
    assert all(w == h for w, h in boxes)
    # a small image is shown at its own size, not stretched over the card
    small = thumb(made["Small"])
    assert "native" in small.get_attribute("class")
    assert not small.get_attribute("srcset")
    assert round(small.rect["width"]) == 96


def test_keyboard_focus_is_visible_on_every_control_and_marks_are_read_out(
    browser, live_url, analysed_catalog
):
    browser.get(f"{live_url}/?text=brick&catalog={analysed_catalog.catalog.pk}")
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#results .card")))
    check = """
      const el = document.activeElement;
      const inLabel = el.matches('input[type=file], input[type=radio]');
      const shown = (inLabel && el.closest('label')) || el;
      const r = shown.getBoundingClientRect();
      const style = getComputedStyle(shown);
      return {tag: el.tagName, id: el.id, text: (el.textContent || el.value || '').slice(0, 30),
              w: r.width, h: r.height, outline: style.outlineStyle,
              width: parseFloat(style.outlineWidth), color: style.outlineColor,
              visible: style.visibility !== 'hidden' && style.opacity !== '0'};
    """

    def tab() -> None:  # to the page, whatever has focus
        ActionChains(browser).send_keys(Keys.TAB).perform()

    tab()
    seen = []
    for _ in range(80):
        state = browser.execute_script(check)
        if state["tag"] == "BODY":
            break  # past the last tab stop: focus left the page
        seen.append(state)
        # no hidden tab stop: what has focus is on screen, with a ring of at least 2 px
        assert min(state["w"], state["h"]) > 0, state
        assert state["visible"], state
        assert state["outline"] != "none", state
        assert state["width"] >= 2, state
        assert _contrast(state["color"], (247, 246, 243)) >= 3, state  # against the page
        tab()
    ids = {s["id"] for s in seen}
    assert {"id_image", "id_text", "search-button", "id_material_type"} <= ids, ids
    assert any(s["text"].startswith("More like this") for s in seen)
    # the ✓/≈/✗ marks say "matches"/"is close"/"differs" to a screen reader; the glyphs are
    # hidden from it
    marks = browser.find_elements(By.CSS_SELECTOR, "#results .badge.attr")
    for mark in marks:
        glyph = mark.find_element(By.CSS_SELECTOR, "[aria-hidden=true]")
        spoken = mark.find_element(By.CSS_SELECTOR, ".visually-hidden")
        assert glyph.text in {"✓", "≈", "✗"}
        assert spoken.get_attribute("textContent") in {"matches", "is close", "differs"}


def _contrast(css_color: str, background: tuple[int, int, int]) -> float:
    parts = css_color[css_color.index("(") + 1 : css_color.index(")")].split(",")
    rgb = tuple(int(float(p)) for p in parts[:3])

    def luminance(c):
        values = [v / 255 for v in c]
        values = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in values]
        return 0.2126 * values[0] + 0.7152 * values[1] + 0.0722 * values[2]

    light, dark = sorted((luminance(rgb), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_axe_finds_no_violation_on_the_search_results_browse_and_material_pages(
    browser, live_url, analysed_catalog, tmp_path
):
    material = next(iter(analysed_catalog.materials.values()))
    pages = {
        "search": "/",
        "browse": f"/?catalog={analysed_catalog.catalog.pk}",
        "text results": f"/?text=wood&catalog={analysed_catalog.catalog.pk}",
        "material": f"/materials/{material.pk}/",
    }
    found = {}
    for name, path in pages.items():
        browser.get(live_url + path)
        found[name] = axe_violations(browser)
    # and the results of an image search, once refined
    stem = first_stem(analysed_catalog, "grass")
    browser.get(f"{live_url}/")
    browser.find_element(By.ID, "id_image").send_keys(
        str(phone_photo(analysed_catalog.files[stem], tmp_path))
    )
    browser.find_element(By.ID, "search-button").click()
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#results .card")))
    wait_refined(browser)
    found["image results"] = axe_violations(browser)
    assert found == {name: [] for name in found}, found


def test_the_rate_limit_page_keeps_the_search_and_tries_again(
    browser, live_url, analysed_catalog, settings
):
    # given a limit of one search in a long while
    settings.SWATCH_SEARCH = {
        **settings.SWATCH_SEARCH,
        "RATES": {"burst": "1/3600s", "minute": "100/60s", "hour": "1000/3600s"},
    }
    catalog = analysed_catalog.catalog.pk
    browser.get(f"{live_url}/?text=grass&catalog={catalog}")
    assert browser.find_elements(By.CSS_SELECTOR, "#results")
    # when a second search comes at once
    browser.get(f"{live_url}/?text=marble&catalog={catalog}")
    # then the refusal keeps the query, with "Try again" (which posts it as it was)
    assert "Too many searches" in browser.find_element(By.TAG_NAME, "h1").text
    kept = {
        e.get_attribute("name"): e.get_attribute("value")
        for e in browser.find_elements(By.CSS_SELECTOR, "#retry-form input[type=hidden]")
    }
    assert kept["text"] == "marble"
    assert kept["catalog"] == str(catalog)
    settings.SWATCH_SEARCH = {
        **settings.SWATCH_SEARCH,
        "RATES": {"burst": "1000/1s", "minute": "10000/60s", "hour": "100000/3600s"},
    }
    browser.find_element(By.ID, "try-again").click()
    wait(browser).until(lambda d: params(d).get("text") == ["marble"])
    assert results_kind(browser) == "text"


def test_a_rejected_description_is_never_shown_as_fact(browser, live_url, analysed_catalog):
    from analysis.curation.services import analysis_reject

    material = analysed_catalog.materials[first_stem(analysed_catalog, "metal")]
    analysis = VisualAnalysis.objects.get(image__material=material)
    analysis_reject(analysis=analysis, actor=None, note="wrong")
    browser.get(f"{live_url}/materials/{material.pk}/")
    assert browser.find_element(By.ID, "not-described").is_displayed()
    assert not browser.find_elements(By.ID, "look-facts")
    assert not browser.find_elements(By.CSS_SELECTOR, ".swatches .chip")
    assert browser.find_element(By.CSS_SELECTOR, ".gallery img").get_attribute("alt") == (
        f"Photo of {material.name}"
    )


def test_the_empty_result_notice_fits_the_kind_of_query(browser, live_url, analysed_catalog):
    catalog = analysed_catalog.catalog.pk
    analyses = VisualAnalysis.objects.filter(image__catalog=analysed_catalog.catalog)
    grass_finishes = {a.description.get("finish") for a in analyses if a.material_type == "grass"}
    other = sorted({a.description.get("finish") for a in analyses} - grass_finishes - {"unknown"})[
        0
    ]
    keeps_nothing = f"catalog={catalog}&material_type=grass&finish={other}"

    # filters alone that keep nothing: advice about the filters, none about photos
    browser.get(f"{live_url}/?{keeps_nothing}")
    notice = browser.find_element(By.ID, "no-match").text
    assert "No material matches these filters" in notice
    assert "photo" not in notice.lower()

    # a text search that finds nothing: advice about words, none about photos
    browser.get(f"{live_url}/?text=grass&{keeps_nothing}")
    notice = browser.find_element(By.ID, "no-match").text
    assert "Try other words" in notice
    assert "photo (flat" not in notice


def test_the_material_page_holds_a_long_catalog_value_on_a_phone(
    browser, live_url, analysed_catalog
):
    # given a material whose catalog carries a long value without spaces (a path, a URL)
    material = next(iter(analysed_catalog.materials.values()))
    long_value = "deb:sweethome3d=7.0.2:/usr/share/sweethome3d/" + "textures/" * 12 + "bricks.jpg"
    kept = dict(material.attributes)
    material.attributes = {**kept, "origin": long_value}
    material.save(update_fields=["attributes"])
    try:
        # when its page is opened on a desktop and on a phone
        for width, height in ((1366, 900), (390, 844)):
            browser.set_window_size(width, height)
            browser.get(f"{live_url}/materials/{material.pk}/")
            facts = wait(browser).until(EC.presence_of_element_located((By.ID, "supplier-facts")))
            # then the value is there, wrapped inside its box: nothing runs off the page
            assert "bricks.jpg" in facts.text.replace("\n", "")
            box = "const r = document.getElementById('supplier-facts').getBoundingClientRect();"
            inner = browser.execute_script("return document.documentElement.clientWidth")
            assert browser.execute_script(box + "return r.right") <= inner, width
            assert browser.execute_script("return document.documentElement.scrollWidth") <= inner
            overflow = """return [...document.querySelectorAll('#supplier-facts dd')]
                .some(dd => dd.scrollWidth > dd.clientWidth + 1)"""
            assert not browser.execute_script(overflow), width
    finally:
        material.attributes = kept
        material.save(update_fields=["attributes"])
        browser.set_window_size(1366, 900)
