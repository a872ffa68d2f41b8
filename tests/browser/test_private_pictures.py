"""Issue 14: a private catalog's pictures in a real browser (headless Chromium, live server). A
member signed in sees them on the search results, the material page and its "similar" cards,
loaded from signed URLs under `private/`; anonymous visitors and another signed-in user get
neither the URLs in any page nor the bytes (404), whatever the name they try."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.conf import settings
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from access.privacy import catalog_privacy_set
from materials.files import image_file_names
from materials.models import MaterialImage
from tests.browser.test_pages_search import cards, load_page, wait

# `no-store`: the server answers, not the browser's cache (this browser may have loaded the
# catalog's public thumbnails in an earlier test, before the catalog went private).
FETCH = """
const done = arguments[arguments.length - 1];
fetch(arguments[0], {credentials: "same-origin", cache: "no-store"})
  .then(async (r) => {
    const digest = await crypto.subtle.digest("SHA-256", await r.arrayBuffer());
    const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    done([r.status, hex]);
  })
  .catch((e) => done([0, String(e)]));
"""


@pytest.fixture(scope="module")
def private_catalog(analysed_catalog, _browser_media):
    """The analysed catalog made private (its files moved under `private/`); a member."""
    from django.contrib.auth import get_user_model

    change = catalog_privacy_set(catalog=analysed_catalog.catalog, private=True)
    assert change.images_moved == len(analysed_catalog.materials)
    member = get_user_model().objects.create_user("private-member-browser")
    change.row.members.add(member)
    yield analysed_catalog, member
    member.delete()


def _stored_files(catalog) -> dict[str, str]:
    """Each stored file of the catalog → the SHA-256 of its bytes on disk."""
    root, out = Path(settings.MEDIA_ROOT), {}
    for row in MaterialImage.objects.filter(catalog=catalog).values_list(
        "image", "thumbnail", "embedding_input"
    ):
        for name in image_file_names(*row):  # the thumbnail sizes the image is large enough for
            if (root / name).is_file():
                out[name] = hashlib.sha256((root / name).read_bytes()).hexdigest()
    return out


def _fetch(driver, url: str) -> list:
    """[status, SHA-256 of the body] of a fetch from the page (the browser's own cookies)."""
    return driver.execute_async_script(FETCH, url)


def _text_search(driver, live_url: str, text: str) -> None:
    driver.get(live_url + "/")
    box = driver.find_element(By.ID, "id_text")
    box.send_keys(text)
    load_page(driver, box.submit)
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#results, .site-footer")))


def _loaded_images(driver, selector: str) -> list[str]:
    """The `src` of each image `selector` finds, once the browser has decoded it."""
    images = driver.find_elements(By.CSS_SELECTOR, selector)
    wait(driver).until(lambda d: all(i.get_attribute("complete") == "true" for i in images))
    assert all(i.get_attribute("naturalWidth") != "0" for i in images), selector
    return [i.get_attribute("currentSrc") or i.get_attribute("src") for i in images]


def test_a_member_signed_in_sees_the_private_pictures(browser, live_url, private_catalog, login):
    catalog, member = private_catalog
    files = _stored_files(catalog.catalog)
    login(member)

    # the search results show the catalog's materials, their thumbnails loaded from signed
    # URLs of the private files
    _text_search(browser, live_url, "brick")
    found = cards(browser)
    mine = {m.pk for m in catalog.materials.values()}
    assert found
    assert set(found) <= mine
    sources = _loaded_images(browser, "#results .card img")
    assert sources
    for src in sources:
        assert "/media/private/thumbnails/" in src
        assert "signature=" in src

    # the material page's picture and its "similar" cards, too
    material = catalog.materials[next(iter(sorted(catalog.materials)))]
    browser.get(f"{live_url}/materials/{material.pk}/")
    assert browser.find_element(By.TAG_NAME, "h1").text == material.name
    (picture,) = _loaded_images(browser, ".gallery img")
    assert "/media/private/images/" in picture
    similar = _loaded_images(browser, ".similar .card img")
    assert similar
    assert all("/media/private/" in src for src in similar)

    # and each stored file is served to the member's session by its plain name, unaltered
    for name, digest in files.items():
        assert _fetch(browser, f"{live_url}/media/{name}") == [200, digest], name


@pytest.mark.parametrize("who", ["anonymous", "another user"])
def test_others_get_neither_the_urls_nor_the_bytes(
    browser, live_url, private_catalog, login, make_user, who
):
    catalog, _ = private_catalog
    files = _stored_files(catalog.catalog)
    shas = {m.images.first().sha256 for m in catalog.materials.values()}
    if who == "another user":
        login(make_user())

    # the search page lists none of the catalog's materials and names none of its files
    _text_search(browser, live_url, "brick")
    mine = {m.pk for m in catalog.materials.values()}
    assert not set(cards(browser)) & mine
    page = browser.page_source
    assert not any(sha in page for sha in shas)
    assert "/media/private/" not in page

    # a material page of the catalog is a 404 that names nothing of it
    material = next(iter(catalog.materials.values()))
    assert _fetch(browser, f"{live_url}/materials/{material.pk}/")[0] == 404
    browser.get(f"{live_url}/materials/{material.pk}/")
    assert material.name not in browser.page_source
    assert not any(sha in browser.page_source for sha in shas)

    # and no stored file opens: its private name, its old public name, a forged signature
    for name in files:
        public = name.removeprefix("private/")
        for url in (
            f"{live_url}/media/{name}",
            f"{live_url}/media/{public}",
            f"{live_url}/media/{name}?expires=9999999999&signature=forged",
        ):
            assert _fetch(browser, url)[0] == 404, url
