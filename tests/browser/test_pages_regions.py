"""Searching a part of a photo in a real browser: a box drawn on the photo (before searching,
and on the results page after) sends `crop`, and the service searches only that part. A room
photo with a parquet floor finds parquet when the floor is boxed."""

from __future__ import annotations

import uuid

from PIL import Image, ImageDraw, ImageEnhance
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from tests.browser.conftest import PHONE
from tests.browser.test_pages_designers import axe_violations
from tests.browser.test_pages_search import cards, wait, wait_refined
from tests.conftest import SHARED_DATA

NONMATERIALS = SHARED_DATA.parent / "nonmaterials" / "images"
# The floor of the room photo below, as fractions of the photo (a box a designer would draw).
FLOOR = (0.06, 0.64, 0.88, 0.33)


def _floor(texture: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A parquet floor seen from standing height: the texture laid in tiles, in perspective
    (narrower and darker far away)."""
    width, height = size
    tile = texture.resize((texture.width * 2, texture.height * 2), Image.Resampling.BICUBIC)
    flat = Image.new("RGB", (width * 2, height * 2))
    for x in range(0, flat.width, tile.width):
        for y in range(0, flat.height, tile.height):
            flat.paste(tile, (x, y))
    # Perspective: the far edge (top) spans the middle half of the flat floor.
    far, near = flat.width * 0.25, 0.0
    quad = (far, 0, near, flat.height, flat.width - near, flat.height, flat.width - far, 0)
    floor = flat.transform((width, height), Image.Transform.QUAD, quad, Image.Resampling.BICUBIC)
    shade = Image.linear_gradient("L").resize((width, height))  # dark far, light near
    return Image.composite(floor, ImageEnhance.Brightness(floor).enhance(0.6), shade)


def room_photo(texture_path, tmp_path) -> str:
    """A room: a painted wall with a framed photograph and a window, a skirting board, and a
    parquet floor of `texture_path` filling the lower third."""
    width, height = 960, 720
    room = Image.new("RGB", (width, height), (226, 220, 207))
    wall = ImageDraw.Draw(room)
    wall.rectangle((600, 60, 860, 330), fill=(200, 221, 235), outline=(250, 250, 250), width=12)
    wall.line((730, 60, 730, 330), fill=(250, 250, 250), width=8)
    with Image.open(NONMATERIALS / "coffee.png") as picture:
        framed = picture.convert("RGB").resize((300, 200))
    wall.rectangle((100, 90, 420, 310), fill=(60, 45, 35))
    room.paste(framed, (110, 100))
    top = int(height * 0.6)
    with Image.open(texture_path) as texture:
        room.paste(_floor(texture.convert("RGB"), (width, height - top)), (0, top))
    wall.rectangle((0, top - 14, width, top), fill=(245, 243, 238))
    out = tmp_path / f"room-{uuid.uuid4().hex[:8]}.jpg"
    room.save(out, "JPEG", quality=88)
    return str(out)


def draw_box(browser, box: tuple[float, float, float, float]) -> None:
    """Drag across the dialog's photo from the box's top-left to its bottom-right corner."""
    img = browser.find_element(By.ID, "crop-img")
    wait(browser).until(lambda d: img.get_attribute("naturalWidth") not in (None, "0"))
    rect = img.rect
    x, y, w, h = box

    def offset(fx: float, fy: float) -> tuple[int, int]:  # from the element's centre
        return round((fx - 0.5) * rect["width"]), round((fy - 0.5) * rect["height"])

    start, end = offset(x, y), offset(x + w, y + h)
    (
        ActionChains(browser)
        .move_to_element_with_offset(img, *start)
        .click_and_hold()
        .move_to_element_with_offset(img, (start[0] + end[0]) // 2, (start[1] + end[1]) // 2)
        .move_to_element_with_offset(img, *end)
        .release()
        .perform()
    )


def sent_crop(browser) -> tuple[float, ...]:
    value = browser.find_element(By.ID, "id_crop").get_attribute("value")
    return tuple(float(v) for v in value.split(",")) if value else ()


def search_results(browser, click_id: str) -> list[int]:
    old = browser.find_element(By.ID, "search-form")
    browser.find_element(By.ID, click_id).click()
    wait(browser).until(EC.staleness_of(old))
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#results .card")))
    wait_refined(browser)
    return cards(browser)


def first_score(browser) -> float:
    """The first result's relevance, as its card gives it (the match percentage's value)."""
    return float(
        browser.find_element(By.CSS_SELECTOR, "#results .card .score data").get_attribute("value")
    )


def parquets(analysed_catalog) -> set[int]:
    found = {m.pk for m in analysed_catalog.materials.values() if "parquet" in m.name.lower()}
    assert found, "the browser catalog has no parquet (tests/browser/conftest.py CATALOG_SAMPLE)"
    return found


def test_a_boxed_floor_in_a_room_photo_finds_parquet_before_and_after_searching(
    browser, live_url, analysed_catalog, tmp_path, screenshot
):
    parquet = parquets(analysed_catalog)
    texture = next(
        analysed_catalog.files[s]
        for s, m in analysed_catalog.materials.items()
        if m.pk in parquet and m.name == "Light parquet"
    )
    photo = room_photo(texture, tmp_path)

    # given a room photo chosen on the search page
    browser.get(f"{live_url}/?catalog={analysed_catalog.catalog.pk}")
    browser.find_element(By.ID, "id_image").send_keys(photo)
    select = wait(browser).until(EC.element_to_be_clickable((By.ID, "select-part")))

    # when the designer boxes the floor before searching, and searches that part
    select.click()
    wait(browser).until(EC.visibility_of_element_located((By.ID, "crop-dialog")))
    draw_box(browser, FLOOR)
    screenshot(browser, "search-region", full_page=False)
    assert not browser.find_element(By.ID, "crop-search").get_attribute("disabled")
    assert "88% wide" in browser.find_element(By.ID, "crop-size").text
    boxed = search_results(browser, "crop-search")

    # then a parquet comes first, and the page says only the boxed part was searched
    assert boxed[0] in parquet, boxed
    sent = sent_crop(browser)
    assert max(abs(a - b) for a, b in zip(sent, FLOOR, strict=True)) < 0.02, sent
    assert browser.find_element(By.ID, "crop-mark").is_displayed()
    assert "Only the boxed part" in browser.find_element(By.ID, "crop-note").text
    screenshot(browser, "search-region-results", full_page=False)

    # when the whole image is searched instead, from the results page
    browser.find_element(By.ID, "select-part").click()
    wait(browser).until(EC.visibility_of_element_located((By.ID, "crop-dialog")))
    whole = search_results(browser, "crop-whole")
    whole_score = first_score(browser)
    assert sent_crop(browser) == ()
    assert not browser.find_element(By.ID, "crop-mark").is_displayed()

    # and the floor is boxed again after that search (on the page's inline copy)
    browser.find_element(By.ID, "select-part").click()
    wait(browser).until(EC.visibility_of_element_located((By.ID, "crop-dialog")))
    draw_box(browser, FLOOR)
    again = search_results(browser, "crop-search")
    assert again[0] in parquet, again
    # the whole room, wall and picture included, finds that parquet less surely than its floor
    # alone: further down, or first with a lower relevance
    if whole[0] == again[0]:
        assert first_score(browser) > whole_score, (whole, again)


def test_the_box_can_be_drawn_with_the_keyboard_on_a_phone_and_cancelled(
    browser, live_url, tmp_path, screenshot
):
    photo = tmp_path / "two.png"
    Image.new("RGB", (400, 300), (120, 80, 50)).save(photo)
    browser.set_window_size(*PHONE)
    browser.get(f"{live_url}/")
    browser.find_element(By.ID, "id_image").send_keys(str(photo))
    wait(browser).until(EC.element_to_be_clickable((By.ID, "select-part"))).click()
    stage = wait(browser).until(EC.visibility_of_element_located((By.ID, "crop-stage")))
    wait(browser).until(lambda d: d.switch_to.active_element.get_attribute("id") == "crop-stage")

    # an arrow key puts a box in the middle; arrows move it, Shift+arrows resize it
    stage.send_keys(Keys.ARROW_DOWN)
    assert "50% wide, 50% high, from 25% across" in browser.find_element(By.ID, "crop-size").text
    stage.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.ARROW_DOWN).key_up(
        Keys.SHIFT
    ).perform()
    assert "50% wide, 52% high, from 29% across" in browser.find_element(By.ID, "crop-size").text
    # the dialog fits a phone's screen, and axe finds nothing wrong with it
    dialog = browser.find_element(By.ID, "crop-dialog").rect
    assert dialog["x"] >= 0, dialog
    assert dialog["x"] + dialog["width"] <= PHONE[0], dialog
    assert browser.find_element(By.ID, "crop-cancel").is_displayed()
    screenshot(browser, "search-region-phone", full_page=False)
    assert axe_violations(browser) == []

    # Escape (or Cancel) closes the dialog, sends nothing, and gives focus back to its button
    stage.send_keys(Keys.ESCAPE)
    wait(browser).until(EC.invisibility_of_element_located((By.ID, "crop-dialog")))
    assert sent_crop(browser) == ()
    assert browser.switch_to.active_element.get_attribute("id") == "select-part"
