"""Stored images (the `/media/` files) and who may see them.

A public catalog's images are anyone's, at plain URLs: the file system storage's `/media/…`, or
the object store's as configured (a CDN's included). A private catalog's are only for staff, its
members and the keys granted it; an `<img>` sends no API key, so the API and the pages give
those askers **signed** URLs: on the file system `/media/<name>?expires=…&signature=…` (an HMAC
of the name and the expiry under the secret key, the same URL for a whole window so browsers
cache it), on S3 a presigned URL of the bucket itself, never of the CDN. The media view
(`access.views.media_file`) serves a file only when a catalog holding it is visible to the
asker (by session or key) or the signature is valid; anything else is a 404, as for a file that
does not exist."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.signing import Signer
from django.utils.crypto import constant_time_compare
from django.utils.encoding import filepath_to_uri

from config.clock import clock_now
from materials.files import image_file_names
from materials.models import PRIMARY_FIRST, MaterialImage

_SIGNER = Signer(salt="swatch.private-media")
# The stored names (materials.models): images/ab/<sha256>[_x].jpg, thumbnails/ab/<sha256>[@2x].jpg,
# embedding/ab/<sha256>.png — anything else is no catalog's file.
# A private catalog's are the same under private/ (materials/files.py).
_STORED = re.compile(
    r"^(?:private/)?(?:images|thumbnails|embedding)/[0-9a-f]{2}/([0-9a-f]{64})[^/]*$"
)


def _storage():
    return default_storage._wrapped if hasattr(default_storage, "_wrapped") else None


def media_url(name: str) -> str:
    """A public file's URL: `default_storage.url(name)`; on the file system storage without
    `urljoin`'s parsing (a search answer asks for twenty): Django keeps stored names free of
    `..` and `base_url` ending in `/`, so joining is appending."""
    storage = _storage()
    if type(storage) is FileSystemStorage and "/." not in f"/{name}":
        return storage.base_url + filepath_to_uri(name).lstrip("/")
    return default_storage.url(name)


def _signature(name: str, expires: int) -> str:
    return _SIGNER.signature(f"{name}\n{expires}")


def signed_media_url(name: str) -> str:
    """A private catalog's file, for an asker who may see it: signed for at least
    `SWATCH_PRIVATE_MEDIA_URL_SECONDS`."""
    seconds = settings.SWATCH_PRIVATE_MEDIA_URL_SECONDS
    storage = _storage()
    if isinstance(storage, FileSystemStorage):
        expires = (int(clock_now()) // seconds + 2) * seconds  # one URL per window
        query = urlencode({"expires": expires, "signature": _signature(name, expires)})
        return f"{media_url(name)}?{query}"
    if type(storage).__name__ == "S3Storage":
        return _presigning_storage().url(name, expire=seconds)
    return media_url(name)


def media_url_for(name: str, *, private: bool) -> str:
    return signed_media_url(name) if private else media_url(name)


_presigners: dict[str, object] = {}


def _presigning_storage():
    """The S3 storage as configured, but presigning and with no CDN domain: a private object
    is fetched from the bucket with a signature, never by name through the CDN."""
    from storages.backends.s3 import S3Storage  # only with SWATCH_MEDIA_STORAGE=s3

    options = {**settings.STORAGES["default"].get("OPTIONS", {})}
    options.update(custom_domain=None, querystring_auth=True)
    key = repr(sorted(options.items()))
    if key not in _presigners:
        _presigners[key] = S3Storage(**options)
    return _presigners[key]


def signature_valid(name: str, expires: str | None, signature: str | None) -> bool:
    if not expires or not signature or not expires.isdigit():
        return False
    if int(expires) < clock_now():
        return False
    return constant_time_compare(_signature(name, int(expires)), signature)


def file_catalogs(name: str) -> set[int]:
    """The catalogs whose images are stored under `name` (the same bytes may be in several):
    one query on the indexed content hash the name carries."""
    match = _STORED.match(name)
    if match is None:
        return set()
    rows = MaterialImage.objects.filter(sha256=match.group(1)).values_list(
        "catalog_id", "image", "thumbnail", "embedding_input"
    )
    return {row[0] for row in rows if name in image_file_names(*row[1:])}


def primary_picture_names(material_ids) -> dict[int, tuple[str, str]]:
    """Each material's primary image: (thumbnail or else image name, image name)."""
    rows = (
        MaterialImage.objects.filter(material_id__in=list(material_ids))
        .order_by("material_id", *PRIMARY_FIRST)
        .values_list("material_id", "thumbnail", "image")
    )
    names: dict[int, tuple[str, str]] = {}
    for material_id, thumbnail, image in rows:
        names.setdefault(material_id, (thumbnail or image, image))
    return names


def results_signed(results: list[dict], private_names: set[str]) -> list[dict]:
    """Search results (dicts) whose catalog is one of `private_names` (private catalogs the
    asker may see: the others are not among its results) get signed thumbnail URLs."""
    private = [r for r in results if r.get("catalog") in private_names]
    if not private:
        return results
    names = primary_picture_names(r["material_id"] for r in private)
    for result in private:
        picture = names.get(result["material_id"])
        if picture and picture[0]:
            result["thumbnail_url"] = signed_media_url(picture[0])
    return results
