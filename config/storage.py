"""The storage of catalog images: Django's file system storage, or django-storages' S3 backend
(`SWATCH_MEDIA_STORAGE=s3`). The rest of Swatch only goes through `default_storage` and the
image fields' storage (open, save, delete, url), so either serves every path."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

from config import env

FILESYSTEM = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
S3 = "storages.backends.s3.S3Storage"


def media_storage() -> dict[str, Any]:
    """The `STORAGES["default"]` entry the environment asks for."""
    kind = env.get_str(env.MEDIA_STORAGE).strip().lower()
    if kind == "filesystem":
        return FILESYSTEM
    if kind != "s3":
        raise ImproperlyConfigured(
            f"SWATCH_MEDIA_STORAGE must be `filesystem` or `s3`, not {kind!r}."
        )
    bucket = env.get_optional(env.S3_BUCKET)
    if not bucket:
        raise ImproperlyConfigured("SWATCH_MEDIA_STORAGE=s3 needs SWATCH_S3_BUCKET.")
    cdn = env.get_optional(env.MEDIA_CDN_DOMAIN)
    options = {
        "bucket_name": bucket,
        "endpoint_url": env.get_optional(env.S3_ENDPOINT_URL),
        "region_name": env.get_optional(env.S3_REGION),
        "access_key": env.get_optional(env.S3_ACCESS_KEY_ID),
        "secret_key": env.get_optional(env.S3_SECRET_ACCESS_KEY),
        "location": env.get_str(env.S3_PREFIX).strip("/"),
        "custom_domain": cdn,
        "querystring_auth": not cdn,
        "querystring_expire": env.get_int(env.S3_URL_SECONDS),
        "signature_version": "s3v4",  # what every S3-compatible store speaks (R2: only it)
        # Stored names are content hashes: a name taken holds the same bytes, never overwrite
        # another's under it (a new name instead).
        "file_overwrite": False,
        "default_acl": None,
    }
    return {"BACKEND": S3, "OPTIONS": {k: v for k, v in options.items() if v is not None}}
