"""Catalog images on an S3-compatible object store (`SWATCH_MEDIA_STORAGE=s3`, django-storages),
against a local S3 server the test starts: moto in server mode, a process of its own spoken to
over HTTP, as Swatch would speak to S3, R2 or MinIO."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from PIL import Image

from analysis.ingest import _load_pixels
from config.storage import media_storage
from materials.models import MaterialImage
from materials.services import catalog_delete, catalog_get_or_create, material_create_with_image
from tests.config.conftest import BUCKET, bucket_keys, storage_from_env
from tests.conftest import make_image_bytes


@pytest.mark.django_db
def test_a_stored_image_goes_to_the_bucket_and_back(settings, s3_env):
    # given the S3 backend chosen by the environment
    storage_from_env(settings)
    data = make_image_bytes(size=(96, 64), color=(160, 110, 60))

    # when a material is created with its image
    created = material_create_with_image(
        catalog=catalog_get_or_create(name="s3"), data=data, name="Oak"
    )
    image = MaterialImage.objects.get(pk=created.image.pk)

    # then the image, its embedding input and thumbnails are objects in the bucket, not files
    keys = bucket_keys(s3_env)
    assert f"media/{image.image.name}" in keys
    assert f"media/{image.embedding_input.name}" in keys
    assert f"media/{image.thumbnail.name}" in keys
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.jpg"))
    # the pipeline reads it back from the bucket, the same pixels
    body = s3_env.get_object(Bucket=BUCKET, Key=f"media/{image.image.name}")["Body"].read()
    assert _load_pixels(image).size == Image.open(io.BytesIO(body)).size == (96, 64)
    # its URL is signed for the bucket, and a browser fetching it gets the bytes
    url = image.image.url
    assert url.startswith(f"{settings.STORAGES['default']['OPTIONS']['endpoint_url']}/{BUCKET}/")
    assert "X-Amz-Signature=" in url
    assert requests.get(url, timeout=30).content == body

    # and deleting the catalog deletes its objects
    catalog_delete(catalog=image.material.catalog)
    assert bucket_keys(s3_env) == set()


@pytest.mark.django_db
def test_behind_a_cdn_image_urls_point_to_it_unsigned(settings, s3_env, monkeypatch):
    monkeypatch.setenv("SWATCH_MEDIA_CDN_DOMAIN", "media.example.com")
    storage_from_env(settings)

    created = material_create_with_image(
        catalog=catalog_get_or_create(name="cdn"), data=make_image_bytes(), name="Slate"
    )

    url = MaterialImage.objects.get(pk=created.image.pk).image.url
    assert url == f"https://media.example.com/media/{created.image.image.name}"


def test_the_storage_setting_is_checked(monkeypatch):
    monkeypatch.setenv("SWATCH_MEDIA_STORAGE", "filesystem")
    assert media_storage()["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    monkeypatch.setenv("SWATCH_MEDIA_STORAGE", "s3")
    monkeypatch.delenv("SWATCH_S3_BUCKET", raising=False)
    with pytest.raises(ImproperlyConfigured, match="SWATCH_S3_BUCKET"):
        media_storage()
    monkeypatch.setenv("SWATCH_MEDIA_STORAGE", "ftp")
    with pytest.raises(ImproperlyConfigured, match="filesystem` or `s3"):
        media_storage()


@pytest.mark.django_db
def test_a_private_catalogs_objects_get_presigned_urls_of_the_bucket_never_the_cdns(
    settings, s3_env, monkeypatch
):
    from access.media import media_url_for

    monkeypatch.setenv("SWATCH_MEDIA_CDN_DOMAIN", "media.example.com")
    storage_from_env(settings)
    settings.SWATCH_PRIVATE_MEDIA_URL_SECONDS = 600
    created = material_create_with_image(
        catalog=catalog_get_or_create(name="private"), data=make_image_bytes(), name="Slate"
    )
    name = MaterialImage.objects.get(pk=created.image.pk).thumbnail.name
    body = s3_env.get_object(Bucket=BUCKET, Key=f"media/{name}")["Body"].read()

    public = media_url_for(name, private=False)
    private = media_url_for(name, private=True)

    assert public == f"https://media.example.com/media/{name}"
    endpoint = settings.STORAGES["default"]["OPTIONS"]["endpoint_url"]
    assert private.startswith(f"{endpoint}/{BUCKET}/media/")
    assert "X-Amz-Signature=" in private
    assert "X-Amz-Expires=600" in private
    assert requests.get(private, timeout=30).content == body
