import shutil

import pytest
from django.core.management import call_command

from materials.models import Material

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(tmp_path, shared_data):
    folder = tmp_path / "cat" / "marble"
    folder.mkdir(parents=True)
    for path in sorted((shared_data / "images" / "marble").glob("*.png"))[:3]:
        shutil.copy(path, folder / path.name)
    call_command("import_catalog", str(tmp_path / "cat"), "--catalog", "adm", "--no-analysis")
    return Material.objects.filter(catalog__name="adm")


def test_material_list_shows_thumbnails_search_and_filters(admin_client, imported):
    response = admin_client.get("/admin/materials/material/?q=marble")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<img src="/media/thumbnails/') == 3
    assert "By catalog" in html or "By category" in html


def test_material_page_has_inline_image_previews(admin_client, imported):
    material = imported.first()
    response = admin_client.get(f"/admin/materials/material/{material.pk}/change/")
    assert response.status_code == 200
    assert f'src="{material.primary_image.thumbnail.url}"' in response.content.decode()


def test_stored_image_is_served(client, imported):
    image = imported.first().primary_image
    response = client.get(image.image.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"  # JPEG
