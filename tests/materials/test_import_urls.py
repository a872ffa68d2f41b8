"""`import_catalog` with a CSV `url` column: downloads from a local server on loopback
(allow-listed as an intranet host would be), refusals reported per row, nothing downloaded
twice when run again."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command

from materials.models import Catalog, MaterialImage
from tests.fakes.image_server import image_server

pytestmark = pytest.mark.django_db


def textures(shared_data, count: int, skip: int = 0) -> dict[str, bytes]:
    files = sorted((shared_data / "images").rglob("*.png"))[skip : skip + count]
    return {f"{path.parent.name}-{path.name}": path.read_bytes() for path in files}


def url_csv(path, rows: list[dict[str, str]]):
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["url", "name", "category", "colour"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def _import(csv_path, *extra) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_catalog", str(csv_path), "--catalog", "web", "--no-analysis", *extra,
        stdout=out, stderr=err,
    )  # fmt: skip
    return out.getvalue().strip().splitlines()[-1], err.getvalue()


@pytest.fixture
def allow_local(settings):
    settings.SWATCH = {
        **settings.SWATCH,
        "URL_IMPORT": {**settings.SWATCH["URL_IMPORT"], "ALLOWED_HOSTS": ("127.0.0.1",)},
    }


def test_a_csv_of_urls_is_downloaded_and_imported_once(shared_data, tmp_path, allow_local):
    images = textures(shared_data, 5)
    with image_server(images) as server:
        rows = [
            {"url": server.image_url(name), "category": name.split("-")[0], "colour": "x"}
            for name in images
        ]
        rows += [
            {"url": "ftp://example.com/a.png", "name": "ftp"},
            {"url": "http://169.254.169.254/latest/meta-data", "name": "metadata"},
            {"url": server.image_url("missing.png"), "name": "missing"},
        ]
        path = url_csv(tmp_path / "urls.csv", rows)
        # when the CSV is imported, three at a time
        line, err = _import(path, "--concurrency", "3")
        # then each image is a material with its row's columns, and each refusal is reported
        assert line == "imported 5, skipped 0, failed 3"
        assert "failed ftp://example.com/a.png: url_scheme: only http and https" in err
        assert "url_blocked" in err
        assert "169.254.169.254" in err
        assert "answered 404" in err
        stored = MaterialImage.objects.filter(catalog__name="web").select_related("material")
        assert sorted(i.source_url for i in stored) == sorted(r["url"] for r in rows[:5])
        first = stored.get(source_url=rows[0]["url"]).material
        assert first.category == rows[0]["category"]
        assert first.attributes == {"colour": "x"}
        assert sum(server.hits[f"/img/{name}"] for name in images) == 5
        # when it runs again, then nothing is imported or downloaded again
        line, _ = _import(path)
        assert line == "imported 0, skipped 5, failed 3"
        assert sum(server.hits[f"/img/{name}"] for name in images) == 5
    assert Catalog.objects.get(name="web").materials.count() == 5


def test_urls_of_private_addresses_are_refused_without_the_allow_list(shared_data, tmp_path):
    images = textures(shared_data, 1)
    with image_server(images) as server:
        path = url_csv(tmp_path / "urls.csv", [{"url": server.image_url(next(iter(images)))}])
        line, err = _import(path)
        assert line == "imported 0, skipped 0, failed 1"
        assert "private, loopback or link-local" in err
        assert sum(server.hits.values()) == 0
