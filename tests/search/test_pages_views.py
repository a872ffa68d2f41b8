"""The search pages through Django's test client: the no-JavaScript path, paging, the
refinement partial and every error path. Real Postgres + pgvector, real Redis cache, the small
real providers of tests/search/providers.py, the real background refinement thread."""

from __future__ import annotations

import html
import io
import re
import time
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from materials.models import MaterialImage
from tests.conftest import make_image_bytes
from tests.search.catalog_support import COLORS, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    # Each test its own address: rate limits are counted per IP in the shared cache.
    return Client(REMOTE_ADDR=f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7")


def photo(rgb) -> bytes:
    """A photo of a colour, new bytes each time: no cache (vectors, analyses) from another
    test can answer for it. The pixels stay the same (a nonce in a PNG text chunk makes the
    bytes new): a random width once made the colour histogram too unlike the catalog's."""
    image = Image.open(io.BytesIO(png(rgb, size=(64, 48))))
    info = PngInfo()
    info.add_text("nonce", uuid.uuid4().hex)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def upload(data: bytes, name: str = "sample.png", content_type: str = "image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def card_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="card" data-material-id="(\d+)"', page)]


def results_attr(page: str, name: str) -> str:
    match = re.search(rf'id="results"[^>]*data-{name}="([^"]*)"', page, re.S)
    assert match, f"no data-{name} on the results section"
    return match.group(1)


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no hidden {name}"
    return html.unescape(match.group(1))


def test_empty_page_offers_only_filters_the_catalog_holds(client, providers, sample_catalog):
    # given a catalog of wood, stone, marble, brick, grass and fabric
    # when the search page opens
    response = client.get("/")

    # then it is a form, and the material filter offers those types and no others
    assert response.status_code == 200
    page = response.content.decode()
    assert 'enctype="multipart/form-data"' in page
    types = re.findall(
        r'<option value="([a-z ]+)"', page.split('name="material_type"')[1].split("</select>")[0]
    )
    assert sorted(types) == ["brick", "fabric", "grass", "marble", "stone", "wood"]
    assert 'for="id_text"' in page  # labelled inputs
    assert 'for="id_image"' in page


def test_image_upload_shows_fast_results_with_preview_and_stores_nothing(
    client, providers, sample_catalog, settings
):
    # given a catalog, and a describer that has not answered yet
    images_before = MaterialImage.objects.count()
    files_before = sorted(p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file())

    # when a photo of brown wood is uploaded without JavaScript
    response = client.post("/", {"image": upload(photo(COLORS["brown"]))})

    # then the fast results are there, oak first, labelled as fast, with a preview inline
    assert response.status_code == 200, response.content[:500]
    page = response.content.decode()
    assert card_ids(page)[0] == sample_catalog["oak"].pk
    assert results_attr(page, "phase") == "fast"
    assert "Fast results" in page
    assert hidden(page, "image_data").startswith("data:image/jpeg;base64,")
    assert 'id="preview-img" src="data:image/jpeg;base64,' in page
    assert 'data-strategy="vector"' in page  # why it matched
    # and the query image was stored nowhere
    assert MaterialImage.objects.count() == images_before
    assert sorted(p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()) == files_before


def test_results_partial_turns_refined_when_the_analysis_is_done(
    client, providers, sample_catalog, gate
):
    # given a fast answer to a brown photo
    page = client.post("/", {"image": upload(photo(COLORS["brown"]))}).content.decode()
    query_id = results_attr(page, "query-id")
    partial = client.get("/search/results/", {"q": query_id}).content.decode()
    assert results_attr(partial, "refinement") == "pending"

    # when the describer answers
    gate.set()

    # then the partial the page polls shows the refined ranking and says so
    deadline = time.monotonic() + 20
    while results_attr(partial, "refinement") == "pending" and time.monotonic() < deadline:
        time.sleep(0.05)
        partial = client.get("/search/results/", {"q": query_id}).content.decode()
    assert results_attr(partial, "phase") == "refined"
    assert "Refined results" in partial
    assert 'data-attribute="material_type"' in partial  # property badges come with phase 2
    assert card_ids(partial)[0] == sample_catalog["oak"].pk
    assert "<html" not in partial  # a fragment, not a page


def test_pages_step_through_one_answer_by_query_id(client, providers, sample_catalog, settings):
    # given one result per page
    settings.SWATCH_PAGES = {**settings.SWATCH_PAGES, "PAGE_SIZE": 1}
    page1 = client.get("/", {"text": "wood"}).content.decode()
    query_id = results_attr(page1, "query-id")
    # the page links are the search's own address, with the answer's id
    assert f'href="/?text=wood&amp;q={query_id}&amp;page=2"' in page1

    # when the second page is opened (no search run again)
    page2 = client.get("/", {"text": "wood", "q": query_id, "page": 2}).content.decode()

    # then it shows the next result of the same answer
    assert results_attr(page2, "page") == "2"
    assert results_attr(page2, "address") == f"/?text=wood&amp;q={query_id}&amp;page=2"
    assert card_ids(page1) != card_ids(page2)
    assert len(card_ids(page2)) == 1
    assert f'href="/?text=wood&amp;q={query_id}"' in page2  # previous: page 1


def test_material_type_filter_keeps_only_that_type(client, providers, sample_catalog):
    # given a brown photo, whose best matches are wood
    # when the results are filtered to stone
    response = client.post("/", {"image": upload(photo(COLORS["brown"])), "material_type": "stone"})

    # then no wood is left, and whatever is shown is stone
    page = response.content.decode()
    assert response.status_code == 200
    shown = set(card_ids(page))
    assert sample_catalog["oak"].pk not in shown
    assert sample_catalog["walnut"].pk not in shown
    assert shown <= {sample_catalog["slate"].pk}
    assert shown or 'id="no-match"' in page
    assert '<option value="stone" selected>' in page


def test_previous_image_comes_back_from_the_page_for_a_filter_change(
    client, providers, sample_catalog
):
    # given a first search, whose page carries its image inline
    first = client.post("/", {"image": upload(photo(COLORS["grey"]))}).content.decode()
    data, token = hidden(first, "image_data"), hidden(first, "image_token")
    calls = providers.image_embedder.calls

    # when a filter is applied without choosing the image again
    second = client.post("/", {"image_data": data, "image_token": token, "catalog": ""})

    # then the same search runs, from the upload's cached vector (the token vouches for it)
    assert second.status_code == 200
    assert card_ids(second.content.decode())[0] == sample_catalog["slate"].pk
    assert providers.image_embedder.calls == calls

    # and a token that does not match the inline image is not trusted with the upload's hash
    forged = client.post("/", {"image_data": data, "image_token": "forged:token"})
    assert forged.status_code == 200
    assert providers.image_embedder.calls == calls + 1


def test_text_search_without_image(client, providers, sample_catalog):
    # when someone types a material name
    response = client.get("/", {"text": "marble"})

    # then the page answers with results for it
    page = response.content.decode()
    assert response.status_code == 200
    assert card_ids(page)[0] == sample_catalog["carrara"].pk
    assert 'value="marble"' in page  # the box keeps what was typed


def test_more_like_this_searches_by_material(client, providers, sample_catalog):
    oak = sample_catalog["oak"]
    # when "more like this" is followed from oak
    response = client.get("/", {"like": oak.pk})

    # then oak's look-alikes come, not oak itself
    page = response.content.decode()
    assert response.status_code == 200
    assert "More like this" in page
    assert f'href="/materials/{oak.pk}/"' in page
    ids = card_ids(page)
    assert oak.pk not in ids
    assert ids[0] == sample_catalog["walnut"].pk


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (png(COLORS["brown"], size=(64, 48))[:60], "truncated"),
        (b"not an image at all", "not_an_image"),
        (b"", "empty_file"),
    ],
)
def test_bad_upload_is_a_friendly_error_in_the_page(client, providers, sample_catalog, data, code):
    # when a broken file is uploaded
    response = client.post("/", {"image": upload(data)})

    # then the search page says what is wrong, in its own style, with a 400
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page
    assert 'id="search-form"' in page
    assert f'data-code="{code}"' in page
    assert "We couldn't use that image" in page
    assert "Traceback" not in page


def test_empty_search_says_what_to_give(client, providers, sample_catalog):
    response = client.post("/", {"text": "  "})
    assert response.status_code == 400
    assert 'data-code="empty_query"' in response.content.decode()


def test_a_form_posted_without_an_image_goes_to_the_searchs_own_address(
    client, providers, sample_catalog
):
    # the no-JavaScript form posts; without an image it is redirected to a GET address
    response = client.post("/", {"text": "oak", "material_type": "wood", "sort": "name"})
    assert response.status_code == 303
    assert response["Location"] == "/?text=oak&material_type=wood"


def test_upload_over_the_cap_is_refused_without_touching_the_disk(
    client, providers, sample_catalog, settings
):
    # given a 4 kB cap
    settings.SWATCH = {**settings.SWATCH, "MAX_UPLOAD_BYTES": 4096}
    big = make_image_bytes(size=(400, 400), color=COLORS["green"], fmt="BMP")
    assert len(big) > 4096

    # when a bigger file is uploaded
    response = client.post("/", {"image": upload(big)})

    # then it is refused by name, and the file handler never spilled it to a temp file
    assert response.status_code == 400
    assert 'data-code="file_too_large"' in response.content.decode()


def test_a_48_megapixel_phone_photo_is_searched_without_javascript(
    client, providers, sample_catalog
):
    # given a phone's 8000 × 6000 JPEG (48 MP, over the 40 MP cap), sent as it is (no script
    # scaled it down)
    # of brown wood
    buffer = io.BytesIO()
    Image.open(io.BytesIO(photo(COLORS["brown"]))).resize((8000, 6000)).save(buffer, "JPEG")

    # when it is uploaded, then it is searched (decoded at half size), not refused: oak first
    response = client.post("/", {"image": upload(buffer.getvalue(), "phone.jpg", "image/jpeg")})
    assert response.status_code == 200, response.content[:500]
    assert card_ids(response.content.decode())[0] == sample_catalog["oak"].pk
    # and the page states the limits before any upload
    page = client.get("/").content.decode()
    limit = re.search(r'id="upload-limit">(.*?)</p>', page, re.S).group(1)
    assert "25 MB" in limit
    assert "40 megapixels" in limit


def test_rate_limit_shows_its_own_page_with_retry_after(
    client, providers, sample_catalog, settings
):
    # given a limit of one search a minute
    settings.SWATCH_SEARCH = {
        **settings.SWATCH_SEARCH,
        "RATES": {"burst": "1/60s", "minute": "100/60s", "hour": "1000/3600s"},
    }
    assert client.get("/", {"text": "oak"}).status_code == 200

    # when a second search comes at once
    response = client.get("/", {"text": "slate"})

    # then it is a styled page, 429, with Retry-After
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    page = response.content.decode()
    assert "Too many searches" in page
    assert 'data-code="rate_limited"' in page
    assert "swatch.css" in page


def test_unknown_query_id_is_a_404_in_page_style(client, providers, sample_catalog):
    response = client.get("/", {"q": "0" * 32, "img": "1", "material_type": "wood"})
    assert response.status_code == 404
    page = response.content.decode()
    assert 'data-code="query_not_found"' in page
    # an expired image search says how to run it again, its filters still set
    assert "This image search has expired" in page
    assert "Choose the image again" in page
    assert '<option value="wood" selected>' in page
    # a text search whose answer expired is simply run again
    again = client.get("/", {"q": "0" * 32, "text": "marble"})
    assert again.status_code == 200
    assert card_ids(again.content.decode())[0] == sample_catalog["carrara"].pk
    partial = client.get("/search/results/", {"q": "nonsense"})
    assert partial.status_code == 404
    assert "run it again" in partial.content.decode()


def test_material_page_shows_description_analysis_and_similar(client, providers, sample_catalog):
    oak = sample_catalog["oak"]
    analysis = oak.images.first().analysis

    # when anyone opens oak's page
    page = client.get(f"/materials/{oak.pk}/").content.decode()

    # then the description's colours are swatches, walnut is among the similar materials,
    # and the engineering detail (source, model, confidence) and the admin link are not there
    for color in analysis.description["colors"]:
        assert f"background:{color['hex']}" in page
    assert "Offline analyser" not in page
    assert f'value="{analysis.confidence}"' not in page
    similar = page.split('id="similar-heading"')[1]
    assert f'data-material-id="{sample_catalog["walnut"].pk}"' in similar
    assert 'id="admin-link"' not in page
    assert f'alt="{oak.name}: ' in page


def test_material_page_links_staff_to_the_admin(client, providers, sample_catalog, admin_user):
    oak = sample_catalog["oak"]
    analysis = oak.images.first().analysis
    client.force_login(admin_user)
    page = client.get(f"/materials/{oak.pk}/").content.decode()
    # "Edit in admin" opens the analysis's review page; staff see the analysis's detail
    assert f'href="/admin/analysis/reviewqueueitem/{analysis.pk}/change/"' in page
    assert "Offline analyser" in page
    assert f'value="{analysis.confidence}"' in page


def test_missing_material_and_unknown_address_are_styled_404s(client, db):
    for url in ("/materials/999999/", "/no/such/page/"):
        response = client.get(url)
        assert response.status_code == 404
        page = response.content.decode()
        assert "swatch.css" in page
        assert "Back to search" in page


def test_filters_alone_list_the_materials_they_keep_with_facet_counts(
    client, providers, sample_catalog
):
    # when only a filter is chosen, no image and no text
    response = client.get("/", {"material_type": "wood"})

    # then the wood materials are listed, by name, as a browse of the catalog
    page = response.content.decode()
    assert response.status_code == 200
    assert results_attr(page, "kind") == "browse"
    assert card_ids(page) == [sample_catalog["oak"].pk, sample_catalog["walnut"].pk]
    assert "2 materials" in page
    # and each other value says how many it would keep beside the other filters
    catalogs = page.split('name="catalog"')[1].split("</select>")[0]
    assert re.search(r">test \(2\)<", catalogs)  # both woods are in "test"
    assert re.search(r">other \(0\)<", catalogs)  # slate (the only "other") is stone
    types = page.split('name="material_type"')[1].split("</select>")[0]
    assert re.search(r'value="wood" selected>Wood<', types)
    assert re.search(r">Stone \(1\)<", types)  # the type facet ignores its own choice
    # and the chosen filter is a chip whose link takes it away
    assert 'aria-label="Remove filter Material: Wood"' in page
    assert 'class="clear-all" href="/"' in page


def test_browse_sorts_by_how_well_described(client, providers, sample_catalog):
    from analysis.models import VisualAnalysis

    VisualAnalysis.objects.filter(image__material=sample_catalog["walnut"]).update(
        status="approved", confidence=1.0
    )
    page = client.get("/", {"material_type": "wood", "sort": "confidence"}).content.decode()
    assert card_ids(page) == [sample_catalog["walnut"].pk, sample_catalog["oak"].pk]


def test_browse_with_a_filter_that_keeps_nothing_says_so(client, providers, sample_catalog):
    page = client.get("/", {"material_type": "wood", "catalog": "999999"}).content.decode()
    # an unknown catalog id is not a choice: a clear 400, not a 500
    assert "invalid_field" in page
    page = client.get("/", {"material_type": "stone", "finish": "polished"}).content.decode()
    assert card_ids(page) == []
    assert "No material matches these filters" in page


def test_rate_limited_page_keeps_the_query_and_offers_try_again(
    client, providers, sample_catalog, settings
):
    settings.SWATCH_SEARCH = {
        **settings.SWATCH_SEARCH,
        "RATES": {"burst": "1/60s", "minute": "100/60s", "hour": "1000/3600s"},
    }
    first = client.post("/", {"image": upload(photo(COLORS["grey"])), "material_type": "stone"})
    data, token = (
        hidden(first.content.decode(), "image_data"),
        hidden(first.content.decode(), "image_token"),
    )
    response = client.post(
        "/", {"image_data": data, "image_token": token, "material_type": "stone", "text": "x"}
    )
    assert response.status_code == 429
    page = response.content.decode()
    assert 'id="try-again"' in page
    assert hidden(page, "image_data") == data
    assert hidden(page, "image_token").startswith(token.split(":")[0])  # re-signed, same claim
    assert hidden(page, "material_type") == "stone"
    assert hidden(page, "text") == "x"
