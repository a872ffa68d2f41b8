"""Issue 14: a catalog's privacy, changed in the admin or by `manage.py catalog_privacy`, moves
its stored files (file system storage) between the public names and `private/`, each file's
bytes kept; the media view serves the moved files to those who may see them."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from access.models import PrivateCatalog
from materials.files import image_file_names
from materials.models import MaterialImage
from materials.services import catalog_get_or_create, material_create_with_image
from tests.conftest import make_image_bytes

pytestmark = pytest.mark.django_db


def _files(settings) -> dict[str, bytes]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _names(image: MaterialImage) -> set[str]:
    image.refresh_from_db()
    return image_file_names(image.image.name, image.thumbnail.name, image.embedding_input.name)


@pytest.fixture
def image(settings):
    catalog = catalog_get_or_create(name="suppliers only")
    data = make_image_bytes(size=(700, 700), color=(90, 60, 30))
    return material_create_with_image(catalog=catalog, data=data, name="Walnut").image


def _bare(files: dict[str, bytes]) -> dict[str, bytes]:
    return {name.removeprefix("private/"): data for name, data in files.items()}


def test_the_admin_makes_a_catalog_private_and_public_moving_its_files(
    image, admin_client, settings
):
    before = _files(settings)
    assert len(before) == 5  # image, embedding input, 1×, 2× and 3× thumbnails

    page = admin_client.post(
        "/admin/access/privatecatalog/add/", {"catalog": image.catalog_id, "members": []}
    )
    assert page.status_code == 302
    assert PrivateCatalog.objects.filter(catalog_id=image.catalog_id).count() == 1
    after = _files(settings)
    assert set(after) == _names(image)
    assert all(name.startswith("private/") for name in after)
    assert _bare(after) == before
    # the media view finds the moved file's catalog (staff: served)
    assert admin_client.get(f"/media/{image.thumbnail.name}").status_code == 200

    row = PrivateCatalog.objects.get()
    page = admin_client.post(f"/admin/access/privatecatalog/{row.pk}/delete/", {"post": "yes"})
    assert page.status_code == 302
    assert not PrivateCatalog.objects.exists()
    assert _files(settings) == before == {n: before[n] for n in _names(image)}


def test_the_command_changes_a_catalogs_privacy(image, settings, capsys):
    before = _files(settings)
    call_command("catalog_privacy", "suppliers only", "private")
    assert "1 image(s) moved" in capsys.readouterr().out
    assert _bare(_files(settings)) == before
    assert all(n.startswith("private/") for n in _names(image))
    call_command("catalog_privacy", "suppliers only", "private")
    assert "0 image(s) moved" in capsys.readouterr().out
    call_command("catalog_privacy", "suppliers only", "public")
    assert _files(settings) == before
