"""The catalog write API (issue 17): create / upsert by SKU / PATCH / DELETE / bulk, images
by multipart upload or URL, Idempotency-Key replay, the `catalog:write` scope and a private
catalog. Real HTTP requests through Django's test client; real analysis of a changed image."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django_q.models import OrmQ

from access.privacy import catalog_privacy_set
from analysis.catalog_jobs import catalog_job_task
from analysis.models import Embedding
from analysis.tasks import analysis_task
from materials.models import Catalog, Material, MaterialImage
from materials.services import catalog_get_or_create
from tests.api.conftest import auth
from tests.conftest import make_image_bytes
from tests.fakes.image_server import image_server

pytestmark = pytest.mark.django_db

WRITE = ("search", "catalog:read", "catalog:write")


@pytest.fixture
def catalog():
    return catalog_get_or_create(name="supplier")


@pytest.fixture
def writer(make_key):
    return auth(make_key(scopes=WRITE).secret)


def _headers(headers: dict) -> dict:
    return {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}


def _post(path: str, headers: dict, data=None, multipart: bool = False, **extra):
    client = Client()
    if multipart:
        return client.post(path, data=data, **_headers(headers), **extra)
    return client.post(
        path, data=data, content_type="application/json", **_headers(headers), **extra
    )


def _png(colour=(120, 80, 40)) -> io.BytesIO:
    upload = io.BytesIO(make_image_bytes((96, 80), colour))
    upload.name = "swatch.png"
    return upload


def _queued_analyses() -> list[int]:
    return [
        t.task["args"][0] for t in OrmQ.objects.all() if t.task["func"].endswith("analysis_task")
    ]


def test_create_needs_the_write_scope_and_queues_the_analysis(
    catalog, writer, make_key, django_capture_on_commit_callbacks
):
    path = f"/api/v1/catalogs/{catalog.pk}/materials/"
    form = {"name": "Oak plank", "sku": "OAK-1", "category": "wood", "image": _png()}
    # a read key, and no key, may not write
    reader = auth(make_key(name="reader").secret)
    response = _post(path, reader, form, multipart=True)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "scope_missing"
    assert _post(path, {}, {"name": "x"}).status_code in {401, 403}
    # a writer creates the material, and its image is queued for analysis
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(path, writer, {**form, "image": _png()}, multipart=True)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["sku"], body["outcome"]) == ("Oak plank", "OAK-1", "created")
    material = Material.objects.get(pk=body["id"])
    assert material.catalog == catalog
    assert len(_queued_analyses()) == 1
    # a bad request names its field
    response = _post(path, writer, {"sku": "NEW-2"})
    assert (response.status_code, response.json()["error"]["field"]) == (400, "image")
    response = _post(path, writer, {"name": "x", "attributes": [1]})
    assert (response.status_code, response.json()["error"]["field"]) == (400, "attributes")


def test_upsert_by_sku_is_idempotent_and_idempotency_keys_replay(catalog, writer):
    path = f"/api/v1/catalogs/{catalog.pk}/materials/"
    form = {"name": "Slate", "sku": "SL-1", "image": _png((60, 60, 70))}
    first = _post(path, writer, form, multipart=True)
    assert first.status_code == 201
    # the same upsert again changes nothing
    again = _post(
        path, writer, {"name": "Slate", "sku": "SL-1", "image": _png((60, 60, 70))}, multipart=True
    )
    assert (again.status_code, again.json()["outcome"], again.json()["id"]) == (
        200, "unchanged", first.json()["id"],
    )  # fmt: skip
    # a changed field is an update of the same material
    changed = _post(path, writer, {"name": "Blue slate", "sku": "SL-1"})
    assert (changed.json()["outcome"], changed.json()["name"]) == ("updated", "Blue slate")
    assert Material.objects.filter(catalog=catalog).count() == 1

    # a create with an Idempotency-Key, sent twice, creates once and answers the same
    keyed = {**writer, "Idempotency-Key": "order-77"}
    body = {"name": "Travertine", "category": "stone"}
    one = _post(path, keyed, {**body, "image": _png((200, 190, 160))}, multipart=True)
    two = _post(path, keyed, {**body, "image": _png((200, 190, 160))}, multipart=True)
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.json() == two.json()
    assert two.headers["Idempotent-Replayed"] == "true"
    assert Material.objects.filter(catalog=catalog, name="Travertine").count() == 1
    # and the same key for another request is refused
    other = _post(path, keyed, {"name": "Granite", "image": _png((10, 10, 10))}, multipart=True)
    assert (other.status_code, other.json()["error"]["code"]) == (422, "idempotency_key_reused")


def test_a_changed_image_is_analysed_and_embedded_again_and_delete_removes_everything(
    catalog, writer, django_capture_on_commit_callbacks, settings
):
    path = f"/api/v1/catalogs/{catalog.pk}/materials/"
    with django_capture_on_commit_callbacks(execute=True):
        created = _post(
            path, writer, {"name": "Tile", "sku": "T-1", "image": _png()}, multipart=True
        )
    for analysis_id in _queued_analyses():
        analysis_task(analysis_id)
    material = Material.objects.get(pk=created.json()["id"])
    old = material.images.get()
    assert Embedding.objects.filter(image=old).count() == 2
    old_file = settings.MEDIA_ROOT / old.image.name
    assert old_file.exists()
    OrmQ.objects.all().delete()
    # when its image is changed
    with django_capture_on_commit_callbacks(execute=True):
        patched = _patch_multipart(f"{path}{material.pk}/", writer, {"image": _png((20, 140, 200))})
    assert patched.status_code == 200, patched.content
    # then the old image, its vectors and file are gone, and the new one is analysed
    new = material.images.get()
    assert new.pk != old.pk
    assert not Embedding.objects.filter(image_id=old.pk).exists()
    assert not old_file.exists()
    for analysis_id in _queued_analyses():
        analysis_task(analysis_id)
    assert sorted(Embedding.objects.filter(image=new).values_list("kind", flat=True)) == [
        "description", "image",
    ]  # fmt: skip
    # when it is deleted, then its material, image, vectors and files are gone
    new_file = settings.MEDIA_ROOT / new.image.name
    deleted = Client().delete(f"{path}{material.pk}/", **_headers(writer))
    assert deleted.status_code == 204
    assert not Material.objects.filter(pk=material.pk).exists()
    assert not Embedding.objects.filter(image_id=new.pk).exists()
    assert not new_file.exists()
    assert Client().delete(f"{path}{material.pk}/", **_headers(writer)).status_code == 404


def _patch_multipart(path: str, headers: dict, data: dict):
    return Client().patch(
        path, data=encode_multipart(BOUNDARY, data), content_type=MULTIPART_CONTENT,
        **_headers(headers),
    )  # fmt: skip


def test_bulk_writes_answer_a_job_with_per_item_results(
    catalog, writer, settings, django_capture_on_commit_callbacks
):
    settings.SWATCH = {
        **settings.SWATCH,
        "URL_IMPORT": {**settings.SWATCH["URL_IMPORT"], "ALLOWED_HOSTS": ("127.0.0.1",)},
    }
    images = {f"{n}.png": make_image_bytes((90, 70), (30 * n, 90, 200 - 20 * n)) for n in range(3)}
    path = f"/api/v1/catalogs/{catalog.pk}/materials/bulk/"
    with image_server(images) as server:
        items = [
            {"sku": f"B-{n}", "name": f"Board {n}", "image_url": server.image_url(f"{n}.png")}
            for n in range(3)
        ]
        items.append({"sku": "B-bad", "name": "Bad", "image_url": "http://10.0.0.1/x.png"})
        with django_capture_on_commit_callbacks(execute=True):
            response = _post(path, writer, {"items": items})
        assert response.status_code == 202, response.content
        job = response.json()
        assert (job["status"], job["items"], job["results"]) == ("queued", 4, [])
        # when the worker runs it (twice: a redelivery)
        task = next(
            t.task for t in OrmQ.objects.all() if t.task["func"].endswith("catalog_job_task")
        )
        catalog_job_task(*task["args"])
        catalog_job_task(*task["args"])
    # then each item has its result, the good ones once in the catalog
    done = Client().get(f"/api/v1/catalog-jobs/{job['job_id']}/", **_headers(writer)).json()
    assert done["status"] == "done"
    assert [r["status"] for r in done["results"]] == ["unchanged"] * 3 + ["failed"]
    assert done["results"][3]["error"]["code"] == "url_blocked"
    assert sorted(Material.objects.filter(catalog=catalog).values_list("sku", flat=True)) == [
        "B-0", "B-1", "B-2",
    ]  # fmt: skip
    assert MaterialImage.objects.filter(catalog=catalog).count() == 3
    # and more than 500 items are refused, naming the field
    too_many = _post(path, writer, {"items": [{"sku": str(n)} for n in range(501)]})
    assert (too_many.status_code, too_many.json()["error"]["field"]) == (400, "items")


def test_a_private_catalog_is_written_only_with_a_key_granted_it(catalog, make_key):
    catalog_privacy_set(catalog=catalog, private=True)
    path = f"/api/v1/catalogs/{catalog.pk}/materials/"
    stranger = auth(make_key(name="stranger", scopes=WRITE).secret)
    granted = auth(make_key(name="granted", scopes=WRITE, catalogs=[catalog]).secret)
    form = {"name": "Secret oak", "image": _png()}
    refused = _post(path, stranger, form, multipart=True)
    assert (refused.status_code, refused.json()["error"]["code"]) == (404, "not_found")
    assert not Material.objects.filter(catalog=catalog).exists()
    created = _post(path, granted, {**form, "image": _png()}, multipart=True)
    assert created.status_code == 201
    assert Catalog.objects.get(pk=catalog.pk).materials.count() == 1
