"""`import_catalog`: folder or CSV, idempotent by content hash, bad files reported, not fatal."""

import io
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from materials.models import Catalog, Material, MaterialImage
from tests.conftest import make_image_bytes

pytestmark = pytest.mark.django_db


def _run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_catalog", *[str(a) for a in args], "--no-analysis", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_shared_set_imports_156_materials_then_nothing_new(shared_data):
    # when the labelled development set is imported
    out, _ = _run(shared_data, "--labels", shared_data / "labels.csv", "--catalog", "dev")
    # then every image became a material with its labelled category and provenance
    assert out.strip().splitlines()[-1] == "imported 156, skipped 0, failed 0"
    catalog = Catalog.objects.get(name="dev")
    assert Material.objects.filter(catalog=catalog).count() == 156
    bark = Material.objects.get(catalog=catalog, name="Tex mattn bark001")
    assert bark.category == "bark"
    assert bark.attributes["group"] == "ufoai:mattn_bark001"
    assert bark.attributes["license"] == "GPL-2+"
    assert bark.primary_image.width > 0
    # and a second run imports nothing new
    out, _ = _run(shared_data, "--labels", shared_data / "labels.csv", "--catalog", "dev")
    assert out.strip().splitlines()[-1] == "imported 0, skipped 156, failed 0"
    assert MaterialImage.objects.filter(catalog=catalog).count() == 156


def test_bad_files_are_named_with_their_reason_and_the_good_ones_imported(tmp_path, shared_data):
    # given a folder with two good images and three bad ones
    folder = tmp_path / "batch" / "wood"
    folder.mkdir(parents=True)
    good = sorted((shared_data / "images" / "wood").glob("*.png"))[:2]
    for path in good:
        shutil.copy(path, folder / path.name)
    jpeg = make_image_bytes((300, 200), fmt="JPEG", quality=95)
    (folder / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (folder / "notes.jpg").write_text("a text file wearing a .jpg name\n")
    huge = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(huge, "PNG")
    (folder / "huge.png").write_bytes(huge.getvalue())
    (folder / "README.txt").write_text("not an image, not part of the catalog")
    # when the folder is imported
    out, err = _run(tmp_path / "batch", "--catalog", "mixed")
    # then the good ones are in, each bad one is named with its reason, the batch went on
    assert out.strip().splitlines()[-1] == "imported 2, skipped 0, failed 3"
    assert "truncated.jpg: truncated:" in err
    assert "notes.jpg: not_an_image:" in err
    assert "huge.png: too_many_pixels:" in err
    assert "README" not in err
    names = set(Material.objects.filter(catalog__name="mixed").values_list("category", flat=True))
    assert names == {"wood"}


def test_csv_import_takes_names_skus_and_extra_columns(tmp_path, shared_data):
    source = sorted((shared_data / "images" / "tile").glob("*.png"))[0]
    shutil.copy(source, tmp_path / "a.png")
    (tmp_path / "list.csv").write_text(
        "path,name,category,sku,finish\na.png,Blue Tile,tile,T-100,glossy\n"
    )
    out, _ = _run(tmp_path / "list.csv", "--catalog", "csv")
    assert out.strip().endswith("imported 1, skipped 0, failed 0")
    material = Material.objects.get(catalog__name="csv")
    assert (material.name, material.sku, material.category) == ("Blue Tile", "T-100", "tile")
    assert material.attributes == {"finish": "glossy"}


def test_duplicate_sku_in_a_catalog_is_a_reported_failure(tmp_path, shared_data):
    sources = sorted((shared_data / "images" / "tile").glob("*.png"))[:2]
    for n, source in enumerate(sources):
        shutil.copy(source, tmp_path / f"{n}.png")
    (tmp_path / "list.csv").write_text("path,sku\n0.png,SAME\n1.png,SAME\n")
    out, err = _run(tmp_path / "list.csv", "--catalog", "sku")
    assert out.strip().endswith("imported 1, skipped 0, failed 1")
    assert "duplicate_sku" in err


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (Path("/nonexistent/folder"), "no such file or folder"),
        (Path(__file__), "give a folder of images or a CSV"),
    ],
)
def test_a_bad_source_is_a_command_error(path, message):
    with pytest.raises(CommandError, match=message):
        _run(path)


def test_a_missing_labels_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="no such labels file"):
        _run(tmp_path, "--labels", tmp_path / "missing.csv")


def test_an_import_where_every_file_fails_makes_no_catalog(tmp_path):
    folder = tmp_path / "all-bad"
    folder.mkdir()
    (folder / "notes.jpg").write_text("a text file wearing a .jpg name\n")
    (folder / "empty.png").write_bytes(b"")
    out, err = _run(folder, "--catalog", "never-made")
    assert out.strip().splitlines()[-1] == "imported 0, skipped 0, failed 2"
    assert "notes.jpg: not_an_image:" in err
    assert not Catalog.objects.filter(name="never-made").exists()


def test_svg_files_are_skipped_each_with_a_line_in_the_report(tmp_path, shared_data):
    folder = tmp_path / "with-svg"
    folder.mkdir()
    good = sorted((shared_data / "images" / "wood").glob("*.png"))[0]
    shutil.copy(good, folder / good.name)
    (folder / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    out, err = _run(folder, "--catalog", "svg-mix")
    assert out.strip().splitlines()[-1] == "imported 1, skipped 1, failed 0"
    assert "skipped" in err
    assert "logo.svg: SVG is a vector format" in err
    assert Material.objects.filter(catalog__name="svg-mix").count() == 1
