"""Issue 14: behind a CDN, a private catalog's objects are under the bucket's `private/` prefix
(the CDN is given the public prefixes only: docs/DEPLOYMENT.md) and reached only by presigned
URLs; making a catalog private or public moves its objects between the prefixes without
losing one — against the local S3 server of the object-storage tests (tests/config/conftest.py)."""

from __future__ import annotations

import pytest
import requests

from access.media import media_url_for
from access.privacy import catalog_privacy_set
from materials import files
from materials.files import image_file_names
from materials.models import MaterialImage
from materials.services import catalog_get_or_create, material_create_with_image
from search.models import MaterialFacets
from tests.config.conftest import BUCKET, bucket_keys, storage_from_env
from tests.conftest import make_image_bytes

pytestmark = pytest.mark.django_db
CDN = "media.example.com"
BIG = (1000, 990)  # 1×, 2× and 3× thumbnails


def _catalog_with_images(name: str, colors) -> list[MaterialImage]:
    catalog = catalog_get_or_create(name=name)
    made = [
        material_create_with_image(
            catalog=catalog, data=make_image_bytes(size=BIG, color=c), name=f"{name} {c}"
        ).image
        for c in colors
    ]
    return [MaterialImage.objects.get(pk=image.pk) for image in made]


def _names(image: MaterialImage) -> set[str]:
    image.refresh_from_db()
    return image_file_names(image.image.name, image.thumbnail.name, image.embedding_input.name)


def _bytes_by_sha(client, images) -> dict[tuple[str, str], bytes]:
    """(sha256, kind of file, thumbnail size) → its bytes, read from the bucket."""
    out = {}
    for image in images:
        for name in _names(image):
            kind = name.removeprefix("private/").split("/")[0]
            size = next((s for s in ("@2x", "@3x") if s in name), "")
            body = client.get_object(Bucket=BUCKET, Key=f"media/{name}")["Body"].read()
            out[(image.sha256, kind, size)] = body
    return out


@pytest.fixture
def behind_cdn(settings, s3_env, monkeypatch):
    monkeypatch.setenv("SWATCH_MEDIA_CDN_DOMAIN", CDN)
    storage_from_env(settings)
    return s3_env


def test_making_a_catalog_private_moves_its_objects_under_the_private_prefix_and_back(
    behind_cdn, settings
):
    client = behind_cdn
    endpoint = settings.STORAGES["default"]["OPTIONS"]["endpoint_url"]
    # given two catalogs, one holding the same bytes as the other (its own objects)
    secret = _catalog_with_images("secret", [(200, 40, 40), (40, 200, 40)])
    shared = _catalog_with_images("shared", [(200, 40, 40)])
    public_names = {name for image in secret for name in _names(image)}
    before = _bytes_by_sha(client, secret + shared)
    shared_keys = {f"media/{n}" for n in _names(shared[0])}
    assert len(public_names) == 10
    assert not any(n.startswith("private/") for n in public_names)

    # when the catalog is made private
    change = catalog_privacy_set(catalog=secret[0].catalog, private=True)

    # then each of its objects is under the private prefix, with the same bytes, and none is
    # left under a public name: a CDN reading the bucket by the old names finds nothing
    assert change.images_moved == 2
    private_names = {name for image in secret for name in _names(image)}
    assert len(private_names) == 10
    assert all(n.startswith("private/") for n in private_names)
    keys = bucket_keys(client)
    assert {f"media/{n}" for n in private_names} | shared_keys == keys
    assert _bytes_by_sha(client, secret + shared) == before
    for name in public_names:
        assert requests.get(f"{endpoint}/{BUCKET}/media/{name}", timeout=30).status_code == 404
    # the other catalog's copy of the same bytes stays where it was
    assert {f"media/{n}" for n in _names(shared[0])} == shared_keys
    # the URLs given to those granted it are presigned URLs of the bucket, never the CDN's
    thumbnail = secret[0].thumbnail.name
    url = media_url_for(thumbnail, private=True)
    assert url.startswith(f"{endpoint}/{BUCKET}/media/private/")
    assert "X-Amz-Signature=" in url
    assert (
        requests.get(url, timeout=30).content
        == client.get_object(Bucket=BUCKET, Key=f"media/{thumbnail}")["Body"].read()
    )
    # the search's read model names the moved files (its triggers follow the rows)
    facets = MaterialFacets.objects.get(material_id=secret[0].material_id)
    assert (facets.thumbnail, facets.image) == (thumbnail, secret[0].image.name)

    # and a new image of the private catalog goes straight under the private prefix
    (added,) = _catalog_with_images("secret", [(40, 40, 200)])
    assert all(n.startswith("private/") for n in _names(added))

    # when it is made public again, every object comes back to a public name, CDN URLs
    change = catalog_privacy_set(catalog=secret[0].catalog, private=False)
    assert change.images_moved == 3
    back = {name for image in [*secret, added] for name in _names(image)}
    assert not any(n.startswith("private/") for n in back)
    assert bucket_keys(client) == {f"media/{n}" for n in back} | shared_keys
    assert _bytes_by_sha(client, secret + shared) == before
    assert media_url_for(secret[0].thumbnail.name, private=False) == (
        f"https://{CDN}/media/{secret[0].thumbnail.name}"
    )
    # and setting the privacy it already has moves nothing
    assert catalog_privacy_set(catalog=secret[0].catalog, private=False).images_moved == 0


def test_a_move_that_fails_midway_loses_no_file_and_running_it_again_finishes(
    behind_cdn, monkeypatch
):
    client = behind_cdn
    images = _catalog_with_images("secret", [(200, 40, 40), (40, 200, 40), (40, 40, 200)])
    before = _bytes_by_sha(client, images)
    real_copy, copies = files._copy, []

    def copy_until_the_store_fails(storage, source, target):
        # The store refusing at a chosen point of the move (an outage cannot be timed
        # against the real server); every copy before it really goes to the bucket.
        if len(copies) == 7:
            raise ConnectionError("object store unreachable")
        copies.append(target)
        return real_copy(storage, source, target)

    monkeypatch.setattr(files, "_copy", copy_until_the_store_fails)
    with pytest.raises(ConnectionError):
        catalog_privacy_set(catalog=images[0].catalog, private=True)

    # every row names objects that are there, with their bytes: one image moved, the second
    # half copied (its row still names the public objects), the third untouched
    keys = bucket_keys(client)
    for image in images:
        assert {f"media/{n}" for n in _names(image)} <= keys
    assert [all(n.startswith("private/") for n in _names(i)) for i in images] == [
        True, False, False,
    ]  # fmt: skip
    assert _bytes_by_sha(client, images) == before

    # and running it again finishes the move, leaving no object behind under a public name
    monkeypatch.setattr(files, "_copy", real_copy)
    assert catalog_privacy_set(catalog=images[0].catalog, private=True).images_moved == 2
    assert all(n.startswith("private/") for image in images for n in _names(image))
    assert _bytes_by_sha(client, images) == before
    # (the first run's copies of the second image stay, under the private prefix too)
    assert all(key.startswith("media/private/") for key in bucket_keys(client))
