"""The search pages in a real browser: headless Chromium against a live server, a catalog of
real images analysed by the real pipeline."""

from __future__ import annotations

import base64
import io
import uuid

from PIL import Image, ImageEnhance
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from analysis.models import VisualAnalysis
from tests.browser.conftest import DESKTOP, PHONE

WAIT = 30


def phone_photo(path, tmp_path, *, crop: float = 0.85, light: float = 1.08):
    """A catalog image as a phone photo of the sample would be: cropped, lit differently,
    JPEG; a new file each time (no cache from another test answers for it)."""
    with Image.open(path) as original:
        image = original.convert("RGB")
    w, h = image.size
    dx, dy = int(w * (1 - crop) / 2), int(h * (1 - crop) / 2)
    image = image.crop((dx, dy, w - dx, h - dy))
    image = ImageEnhance.Brightness(image).enhance(light)
    out = tmp_path / f"photo-{uuid.uuid4().hex[:8]}.jpg"
    image.save(out, "JPEG", quality=88)
    return out


def wait(driver, timeout=WAIT):
    # The results section is replaced in place (refinement, paging): a lookup may go stale.
    return WebDriverWait(driver, timeout, ignored_exceptions=[StaleElementReferenceException])


def _gone(exc: WebDriverException) -> bool:
    """The element was read while its document or section was being replaced."""
    return isinstance(exc, StaleElementReferenceException) or "does not belong to the document" in (
        exc.msg or ""
    )


def cards(driver) -> list[int]:
    """The material ids on the page, read again if the section was swapped mid-read."""

    def read(d):
        try:
            return (
                [
                    int(card.get_attribute("data-material-id"))
                    for card in d.find_elements(By.CSS_SELECTOR, "#results .card")
                ],
            )
        except WebDriverException as exc:
            if _gone(exc):
                return None
            raise

    return wait(driver).until(read)[0]


def load_page(driver, action) -> None:
    """Run `action` (a click or submit that loads a page) and wait for the new page, parsed to
    its footer: nothing is read from the old document or from one still arriving."""
    old = driver.find_element(By.TAG_NAME, "html")
    action()

    def old_gone(_):
        try:
            old.tag_name  # noqa: B018 - any read of the old document's element
        except WebDriverException as exc:
            if _gone(exc):
                return True
            raise
        return False

    wait(driver).until(old_gone)
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".site-footer")))


def search_with_file(driver, live_url, path, text: str = "") -> None:
    driver.get(live_url + "/")
    driver.find_element(By.ID, "id_image").send_keys(str(path))
    if text:
        driver.find_element(By.ID, "id_text").send_keys(text)
    load_page(driver, driver.find_element(By.CSS_SELECTOR, ".text-row button[type=submit]").click)
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#results, #search-error")))


def wait_refined(driver) -> None:
    wait(driver, 60).until(
        lambda d: d.find_element(By.ID, "results").get_attribute("data-refinement") != "pending"
    )


def analysis_of(material) -> VisualAnalysis:
    return VisualAnalysis.objects.get(image__material=material)


def first_stem(analysed_catalog, category: str) -> str:
    return next(s for s, c in sorted(analysed_catalog.categories.items()) if c == category)


def test_photo_upload_shows_results_badges_then_the_refined_ranking(
    browser, live_url, analysed_catalog, tmp_path, screenshot
):
    # given a phone photo of a wood sample of the catalog
    stem = first_stem(analysed_catalog, "wood")
    photo = phone_photo(analysed_catalog.files[stem], tmp_path)

    # when it is uploaded from the search page
    search_with_file(browser, live_url, photo)

    # then the preview shows the image (from the page, not from the server's storage)
    preview = browser.find_element(By.ID, "preview-img")
    assert preview.get_attribute("src").startswith("data:image/jpeg;base64,")
    # and the original sample comes first, with its "why it matched" badges
    assert cards(browser)[0] == analysed_catalog.materials[stem].pk
    assert wait(browser).until(
        lambda d: (
            d.find_element(By.CSS_SELECTOR, "#results .card")
            .find_element(By.CSS_SELECTOR, '.badge[data-strategy="vector"]')
            .is_displayed()
        )
    )
    # and once the image is analysed, the page swaps in the refined ranking by itself
    wait_refined(browser)
    section = browser.find_element(By.ID, "results")
    assert section.get_attribute("data-refinement") == "done"
    assert "Refined results" in browser.find_element(By.ID, "phase").text
    assert browser.find_elements(By.CSS_SELECTOR, "#results .badge.attr")
    assert cards(browser)[0] == analysed_catalog.materials[stem].pk

    # screenshots of the results, desktop and phone
    screenshot(browser, "search-desktop")
    browser.set_window_size(*PHONE)
    wait(browser).until(
        lambda d: not d.find_element(By.CSS_SELECTOR, ".filters-box").get_attribute("open")
    )
    screenshot(browser, "search-phone")
    browser.set_window_size(*DESKTOP)


def test_filters_narrow_the_results_to_what_was_chosen(
    browser, live_url, analysed_catalog, tmp_path
):
    # given the results for a photo of a brick sample
    stem = first_stem(analysed_catalog, "brick")
    search_with_file(browser, live_url, phone_photo(analysed_catalog.files[stem], tmp_path))
    before = cards(browser)
    assert before
    # when the material filter is set to another type the catalog holds, and applied
    shown_type = analysis_of(analysed_catalog.materials[stem]).material_type
    select = Select(browser.find_element(By.ID, "id_material_type"))
    others = [
        o.get_attribute("value")
        for o in select.options
        if o.get_attribute("value") not in ("", shown_type)
    ]
    assert others, "the sample catalog holds more than one material type"
    other = others[0]
    select.select_by_value(other)
    load_page(browser, browser.find_element(By.CSS_SELECTOR, ".apply-filters").click)
    wait(browser).until(EC.presence_of_element_located((By.ID, "results")))

    # then the image was searched again (it came back from the page) and only that type shows
    assert (
        Select(browser.find_element(By.ID, "id_material_type")).first_selected_option.get_attribute(
            "value"
        )
        == other
    )
    after = cards(browser)
    assert analysed_catalog.materials[stem].pk not in after
    for material_id in after:
        assert VisualAnalysis.objects.get(image__material_id=material_id).material_type == other
    if not after:
        assert browser.find_element(By.ID, "no-match").is_displayed()


def test_detail_page_then_more_like_this(browser, live_url, analysed_catalog, tmp_path):
    # given the results for a photo of a marble sample
    stem = first_stem(analysed_catalog, "marble")
    material = analysed_catalog.materials[stem]
    search_with_file(browser, live_url, phone_photo(analysed_catalog.files[stem], tmp_path))
    wait_refined(browser)  # no swap of the results while the card is clicked

    # when its card is opened
    link = f'.card[data-material-id="{material.pk}"] .card-title a'
    load_page(browser, browser.find_element(By.CSS_SELECTOR, link).click)
    wait(browser).until(EC.url_contains(f"/materials/{material.pk}/"))

    # then the page shows its images, colour swatches, analysis source and confidence
    analysis = analysis_of(material)
    assert browser.find_element(By.TAG_NAME, "h1").text == material.name
    assert (
        browser.find_element(By.CSS_SELECTOR, ".gallery img").get_attribute("naturalWidth") != "0"
    )
    chips = browser.find_elements(By.CSS_SELECTOR, ".swatches .chip")
    assert len(chips) == len(analysis.description["colors"])
    facts = browser.find_element(By.ID, "analysis").text
    assert analysis.get_source_display() in facts
    assert f"{round(analysis.confidence * 100)} %" in facts
    assert browser.find_elements(By.CSS_SELECTOR, ".similar .card")
    assert not browser.find_elements(By.ID, "admin-link")  # not staff

    # and "more like this" searches by the material, leaving it out
    load_page(browser, browser.find_element(By.LINK_TEXT, "More like this").click)
    wait(browser).until(EC.presence_of_element_located((By.ID, "results")))
    assert browser.find_element(By.ID, "results-heading").text == "More like this"
    found = cards(browser)
    assert found
    assert material.pk not in found


def test_staff_see_the_admin_link(browser, live_url, analysed_catalog, login, make_user):
    material = next(iter(analysed_catalog.materials.values()))
    login(make_user(is_staff=True))
    browser.get(f"{live_url}/materials/{material.pk}/")
    link = browser.find_element(By.ID, "admin-link")
    assert link.get_attribute("href").endswith(f"/admin/materials/material/{material.pk}/change/")


def test_text_search_finds_the_named_material(browser, live_url, analysed_catalog):
    # when someone types a material name without any image
    browser.get(live_url + "/")
    box = browser.find_element(By.ID, "id_text")
    box.send_keys("brick")
    load_page(browser, box.submit)
    wait(browser).until(EC.presence_of_element_located((By.ID, "results")))

    # then bricks come first
    found = cards(browser)
    brick_ids = {
        m.pk
        for s, m in analysed_catalog.materials.items()
        if analysed_catalog.categories[s] == "brick"
    }
    assert found
    assert found[0] in brick_ids


def test_pagination_swaps_pages_in_place(browser, live_url, analysed_catalog, tmp_path, settings):
    # given one result a page
    settings.SWATCH_PAGES = {**settings.SWATCH_PAGES, "PAGE_SIZE": 1}
    stem = first_stem(analysed_catalog, "wood")
    search_with_file(browser, live_url, phone_photo(analysed_catalog.files[stem], tmp_path))
    wait_refined(browser)  # no swap by the refinement while paging
    first_page = cards(browser)
    preview = browser.find_element(By.ID, "preview-img").get_attribute("src")

    # when "Next" is followed
    browser.find_element(By.CSS_SELECTOR, ".pagination a[rel=next]").click()
    wait(browser).until(
        lambda d: d.find_element(By.ID, "results").get_attribute("data-page") == "2"
    )

    # then the next results show, and the rest of the page (the preview) stayed
    assert set(cards(browser)).isdisjoint(first_page)
    assert browser.find_element(By.ID, "preview-img").get_attribute("src") == preview


def test_dropped_image_is_previewed_and_searched(browser, live_url, analysed_catalog):
    # given an image file dropped on the drop zone (a real DragEvent with a File)
    stem = first_stem(analysed_catalog, "grass")
    data = base64.b64encode(analysed_catalog.files[stem].read_bytes()).decode()
    browser.get(live_url + "/")
    browser.execute_script(
        """
        const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
        const files = new DataTransfer();
        files.items.add(new File([bytes], "dropped.png", {type: "image/png"}));
        const zone = document.getElementById("dropzone");
        const drop = {dataTransfer: files, bubbles: true, cancelable: true};
        zone.dispatchEvent(new DragEvent("drop", drop));
        """,
        data,
    )
    # then it is previewed before any search, and searched on submit
    preview = browser.find_element(By.ID, "preview-img")
    assert preview.is_displayed()
    assert preview.get_attribute("src").startswith("blob:")
    load_page(browser, browser.find_element(By.CSS_SELECTOR, ".text-row button[type=submit]").click)
    wait(browser).until(EC.presence_of_element_located((By.ID, "results")))
    assert cards(browser)[0] == analysed_catalog.materials[stem].pk


def test_pasted_image_is_previewed(browser, live_url):
    browser.get(live_url + "/")
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (120, 80, 40)).save(buffer, "PNG")
    browser.execute_script(
        """
        const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], "pasted.png", {type: "image/png"}));
        document.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true}));
        """,
        base64.b64encode(buffer.getvalue()).decode(),
    )
    assert browser.find_element(By.ID, "preview-img").is_displayed()
    assert browser.execute_script("return document.getElementById('id_image').files.length") == 1


def test_corrupt_upload_shows_a_friendly_error(browser, live_url, analysed_catalog, tmp_path):
    # given a PNG cut short
    stem = first_stem(analysed_catalog, "metal")
    broken = tmp_path / "broken.png"
    broken.write_bytes(analysed_catalog.files[stem].read_bytes()[:300])

    # when it is uploaded
    search_with_file(browser, live_url, broken)

    # then the page says so in its own words and style, and the form is still there
    alert = browser.find_element(By.ID, "search-error")
    assert alert.get_attribute("data-code") in {"truncated", "corrupt"}
    assert "We couldn't use that image" in alert.text
    assert browser.find_element(By.ID, "id_text").is_displayed()
    assert "Traceback" not in browser.page_source


def test_without_javascript_the_form_shows_the_fast_results(
    nojs_browser, live_url, analysed_catalog, tmp_path
):
    driver = nojs_browser
    # given a browser without JavaScript and a photo of a fabric sample
    stem = first_stem(analysed_catalog, "fabric")
    search_with_file(driver, live_url, phone_photo(analysed_catalog.files[stem], tmp_path))

    # then the results come in the page itself, with the preview rendered by the server
    assert cards(driver)
    assert analysed_catalog.materials[stem].pk in cards(driver)[:3]
    assert (
        driver.find_element(By.ID, "preview-img").get_attribute("src").startswith("data:image/jpeg")
    )
    assert driver.find_element(By.ID, "results").get_attribute("data-phase") in {"fast", "refined"}
    assert "js" not in driver.find_element(By.TAG_NAME, "html").get_attribute("class")

    # and a filter applied afterwards searches the same image again, without re-choosing it
    select = Select(driver.find_element(By.ID, "id_catalog"))
    select.select_by_visible_text(analysed_catalog.catalog.name)
    # the old page's results are still there until the new page replaces them
    load_page(driver, driver.find_element(By.CSS_SELECTOR, ".apply-filters").click)
    wait(driver).until(EC.presence_of_element_located((By.ID, "results")))
    assert analysed_catalog.materials[stem].pk in cards(driver)[:3]
