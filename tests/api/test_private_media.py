"""Issue 14: a private catalog's stored files — image, thumbnails (1×, 2×, 3×), embedding input —
against a live server: 404 to anyone not granted the catalog (anonymous, another key's user),
served to its granted key, its members and staff; and every URL the API and the pages give
those askers (signed: an `<img>` sends no key) opens the file, unaltered and until it expires."""

from __future__ import annotations

import base64
import re
from html import unescape
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model

from access.models import PrivateCatalog
from access.privacy import catalog_privacy_set
from config.clock import clock_set
from materials.models import MaterialImage
from materials.thumbnails import thumbnail_name
from tests.api import http
from tests.api.conftest import auth
from tests.search.catalog_support import COLORS, png

pytestmark = pytest.mark.django_db(transaction=True)
GREY = base64.b64encode(png(COLORS["grey"])).decode()


@pytest.fixture
def private(sample_catalog, catalog_builder, make_key, settings):
    """Catalog "other" is private: Slate, and a large picture with 2× and 3× thumbnails."""
    settings.SWATCH_API_ANONYMOUS = True
    slate = sample_catalog["slate"]
    big = catalog_builder.add(
        "Big slate", COLORS["grey"], catalog="other", material_type="stone",
        data=png(COLORS["grey"], size=(1000, 990)),
    )  # fmt: skip
    catalog_privacy_set(catalog=slate.catalog, private=True)
    granted = make_key(name="granted", catalogs=[slate.catalog]).secret
    other = make_key(name="someone else").secret
    return slate, big, auth(granted), auth(other)


def _files(material) -> list[str]:
    image = MaterialImage.objects.get(material=material)
    names = [image.image.name, image.thumbnail.name, image.embedding_input.name]
    names += [thumbnail_name(image.thumbnail.name, s) for s in ("@2x", "@3x")]
    return names


def _session_of(client, user) -> requests.Session:
    """A browser signed in as `user` (the session row is in the live server's database)."""
    client.force_login(user)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    return session


def _fetch(url: str, session=None, **kwargs) -> requests.Response:
    return (session or requests).get(url, timeout=http.TIMEOUT, **kwargs)


def test_a_private_catalogs_files_open_only_for_its_key_members_and_staff(
    live_server, private, client
):
    slate, big, granted, other = private
    url = live_server.url
    names = _files(big) + _files(slate)[:3]  # Slate is too small for 2× and 3× thumbnails
    User = get_user_model()
    member = User.objects.create_user("member", password="pw-member-1")
    PrivateCatalog.objects.get().members.add(member)
    stranger = User.objects.create_user("stranger", password="pw-stranger-1")
    staff = User.objects.create_user("boss", password="pw-boss-1", is_staff=True)
    on_disk = {name: live_server_media(name).read_bytes() for name in names}

    for name in names:
        address = f"{url}/media/{name}"
        # refused: anonymous, another key, a signed-in user not a member, a broken key
        for headers in ({}, other, {"Authorization": "Api-Key nope.nope"}):
            assert _fetch(address, headers=headers).status_code == 404, (name, headers)
        assert _fetch(address, _session_of(client, stranger)).status_code == 404
        # nor by another door: the static files
        assert _fetch(f"{url}/static/{name}").status_code == 404
        # served: the granted key, a member, staff
        for answer in (
            _fetch(address, headers=granted),
            _fetch(address, _session_of(client, member)),
            _fetch(address, _session_of(client, staff)),
        ):
            assert answer.status_code == 200, name
            assert answer.content == on_disk[name]
            assert answer.headers["Cache-Control"].startswith("private")


def live_server_media(name: str):
    from django.conf import settings

    return settings.MEDIA_ROOT / name


def _signed(address: str) -> bool:
    query = parse_qs(urlsplit(address).query)
    return {"expires", "signature"} <= set(query)


def test_every_url_the_api_gives_the_granted_key_opens_without_it(live_server, providers, private):
    slate, big, granted, other = private
    url = live_server.url
    detail = http.get(f"{url}/api/v1/materials/{big.pk}/", headers=granted).json()
    listed = http.get(f"{url}/api/v1/materials/", headers=granted, params={"catalog": "other"})
    searched = http.post(f"{url}/api/v1/search/", json={"image": GREY}, headers=granted).json()
    stored = http.get(f"{url}/api/v1/search/{searched['query_id']}/", headers=granted).json()
    paged = http.get(
        f"{url}/api/v1/search/{searched['query_id']}/", headers=granted,
        params={"page": 1, "limit": 5},
    ).json()  # fmt: skip
    similar = http.get(f"{url}/api/v1/materials/{slate.pk}/similar/", headers=granted).json()

    urls = [detail["thumbnail_url"], detail["image_url"]]
    urls += [m[k] for m in listed.json()["results"] for k in ("thumbnail_url", "image_url")]
    for answer in (searched, stored, paged, similar):
        private_results = [r for r in answer["results"] if r["catalog"] == "other"]
        assert private_results, answer
        urls += [r["thumbnail_url"] for r in private_results]
    for address in urls:
        assert _signed(address), address
        opened = _fetch(url + address)  # no key, no cookie: an <img>
        assert opened.status_code == 200, address
        assert opened.headers["Cache-Control"].startswith("private")
    # a public catalog's URLs are plain, and anyone's
    oak = next(r for r in searched["results"] if r["catalog"] == "test")
    assert not _signed(oak["thumbnail_url"])
    public = _fetch(url + oak["thumbnail_url"])
    assert public.status_code == 200
    assert public.headers["Cache-Control"].startswith("public")


def test_a_signed_url_opens_only_its_own_file_unaltered_and_until_it_expires(
    live_server, private, settings, tmp_path
):
    slate, big, granted, _ = private
    url = live_server.url
    clock = tmp_path / "clock"
    settings.SWATCH_TEST_CLOCK_FILE = str(clock)
    settings.SWATCH_PRIVATE_MEDIA_URL_SECONDS = 3600
    clock_set(clock, 1_800_000_000)
    address = http.get(f"{url}/api/v1/materials/{big.pk}/", headers=granted).json()["image_url"]
    path, query = address.split("?")
    other_file = _files(slate)[0]

    assert _fetch(f"{url}{address}").status_code == 200
    assert _fetch(f"{url}/media/{other_file}?{query}").status_code == 404  # another file
    signature = parse_qs(query)["signature"][0]
    forged = query.replace(signature, signature[:-1] + ("A" if signature[-1] != "A" else "B"))
    assert _fetch(f"{url}{path}?{forged}").status_code == 404
    expires = int(parse_qs(query)["expires"][0])
    later = query.replace(str(expires), str(expires + 3600))
    assert _fetch(f"{url}{path}?{later}").status_code == 404  # a longer life is not signed
    # the same URL for the window (browsers cache it), valid at least the setting's seconds
    clock_set(clock, 1_800_000_000 + 3599)
    again = http.get(f"{url}/api/v1/materials/{big.pk}/", headers=granted).json()["image_url"]
    assert _fetch(f"{url}{address}").status_code == 200
    assert again == address or _fetch(f"{url}{again}").status_code == 200
    clock_set(clock, expires + 1)
    assert _fetch(f"{url}{address}").status_code == 404


def _image_urls(html: str) -> list[str]:
    found = re.findall(r'(?:src|href)="(/media/[^"]+)"', html)
    for srcset in re.findall(r'srcset="([^"]+)"', html):
        found += [part.strip().split(" ")[0] for part in srcset.split(",")]
    return [unescape(u) for u in found]


def _name(address: str) -> str:
    return unquote(urlsplit(address).path).removeprefix("/media/")


def test_the_pages_give_a_member_signed_urls_and_show_others_no_private_file(
    live_server, providers, private, client
):
    slate, big, _, _ = private
    url = live_server.url
    member = get_user_model().objects.create_user("member", password="pw-member-1")
    PrivateCatalog.objects.get().members.add(member)
    browser = _session_of(client, member)
    pages = [
        _fetch(f"{url}/materials/{big.pk}/", browser).text,  # its pictures, similar cards
        _fetch(f"{url}/", browser, params={"material_type": "stone"}).text,  # browse cards
        _fetch(f"{url}/", browser, params={"text": "grey stone"}).text,  # search cards
    ]
    private_files = set(_files(big) + _files(slate))
    shown = [u for page in pages for u in _image_urls(page)]
    mine = [u for u in shown if _name(u) in private_files]
    assert any("@3x" in _name(u) for u in mine)
    assert any("images/" in u for u in mine)
    for address in mine:
        assert _signed(address), address
        assert _fetch(url + address).status_code == 200, address  # without the session
    # anyone else's pages name none of them
    for page in (
        _fetch(f"{url}/", params={"material_type": "stone"}).text,
        _fetch(f"{url}/", params={"text": "grey stone"}).text,
        _fetch(f"{url}/materials/{big.pk}/").text,
    ):
        assert not {_name(u) for u in _image_urls(page)} & private_files


def test_behind_nginx_the_check_is_ours_and_the_bytes_nginxs(live_server, private, settings):
    slate, big, granted, other = private
    settings.SWATCH_MEDIA_SENDFILE = "x-accel-redirect"
    name = _files(big)[1]
    address = f"{live_server.url}/media/{name}"

    sent = _fetch(address, headers=granted)
    refused = _fetch(address, headers=other)

    assert sent.status_code == 200
    assert sent.headers["X-Accel-Redirect"] == f"/internal-media/{name}"
    assert sent.content == b""
    assert refused.status_code == 404
    assert "X-Accel-Redirect" not in refused.headers
    settings.SWATCH_MEDIA_SENDFILE = "x-sendfile"
    assert _fetch(address, headers=granted).headers["X-Sendfile"] == str(live_server_media(name))
