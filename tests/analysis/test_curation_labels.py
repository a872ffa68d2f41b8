"""`export_curated_labels` / `import_curated_labels`: curation survives a model change."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from analysis.curation.corrections import analysis_correct
from analysis.curation.services import analysis_approve
from analysis.description import description_parse
from analysis.models import AnalysisAuditEntry, Embedding, VisualAnalysis
from analysis.services import analysis_queue_for_images
from tests.analysis.curation_support import (
    analysed_catalog,
    run_queued_tasks,
)
from tests.analysis.pipeline_support import HashingTextEmbedder, store_images

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pipeline_settings")]


@pytest.fixture
def curated(shared_data):
    """Three analyses: one corrected to marble, one approved as it was, one left alone."""
    corrected, approved, untouched = analysed_catalog(
        shared_data, [("stone", 0.5, 3), ("wood", 0.6, 2), ("brick", 0.9, 1)]
    )
    analysis_correct(
        analysis=corrected,
        actor=None,
        description={**corrected.description, "material_type": "marble", "finish": "honed"},
    )
    analysis_approve(analysis=approved, actor=None)
    for analysis in (corrected, approved, untouched):
        analysis.refresh_from_db()
    return corrected, approved, untouched


def _export(tmp_path, *args) -> list[dict[str, str]]:
    path = tmp_path / "labels.csv"
    out = io.StringIO()
    call_command("export_curated_labels", "--output", str(path), *args, stdout=out)
    assert out.getvalue().strip() == f"exported {len(_rows(path))} curated labels to {path}"
    return _rows(path)


def _rows(path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _import(path, *args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_curated_labels", str(path), *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_export_writes_one_row_per_curated_analysis(curated, tmp_path):
    corrected, approved, _ = curated
    rows = _export(tmp_path)
    by_sha = {row["image_sha256"]: row for row in rows}
    assert set(by_sha) == {corrected.image.sha256, approved.image.sha256}
    row = by_sha[corrected.image.sha256]
    assert (row["material_type"], row["finish"], row["category"]) == ("marble", "honed", "stone")
    assert row["catalog"] == "curation"
    assert row["source"] == "curated"
    assert row["image_path"] == corrected.image.image.name
    assert json.loads(row["description"]) == corrected.description
    assert by_sha[approved.image.sha256]["status"] == "approved"


def test_export_of_an_unknown_catalog_is_an_error(curated, tmp_path):
    with pytest.raises(CommandError, match="no catalog named 'nope'"):
        call_command("export_curated_labels", "--catalog", "nope")


def test_labels_come_back_after_a_model_overwrote_them(
    curated, tmp_path, django_capture_on_commit_callbacks
):
    # given the curated labels exported
    corrected, _, _ = curated
    path = tmp_path / "labels.csv"
    _export(tmp_path)
    # and a re-analysis that overwrote the curated description (force_curated)
    with django_capture_on_commit_callbacks(execute=True):
        analysis_queue_for_images(image_ids=[corrected.image_id], force_curated=True)
    run_queued_tasks()
    corrected.refresh_from_db()
    assert (corrected.material_type, corrected.source) == ("stone", "offline")

    # when the labels are imported
    line, _ = _import(path)

    # then the correction is back: curated, embedded, audited as an import (the approved
    # label becomes curated too: a person vouched for it)
    assert line == "updated 2, unchanged 0, skipped 0, failed 0"
    corrected.refresh_from_db()
    assert (corrected.material_type, corrected.source, corrected.status) == (
        "marble",
        "curated",
        "approved",
    )
    text = description_parse(corrected.description).as_text()
    vector = Embedding.objects.get(image_id=corrected.image_id, kind="description").vector
    np.testing.assert_allclose(
        vector, HashingTextEmbedder().embed_texts([text]).vectors[0], atol=1e-6
    )
    assert AnalysisAuditEntry.objects.filter(analysis=corrected, action="import").count() == 1

    # and importing again changes nothing
    assert _import(path)[0] == "updated 0, unchanged 2, skipped 0, failed 0"


def test_labels_apply_to_the_same_bytes_in_another_catalog(curated, tmp_path, shared_data):
    # given the same image stored in another catalog, not analysed yet
    corrected, _, _ = curated
    _export(tmp_path)
    rows = [
        r for r in _rows(tmp_path / "labels.csv") if r["image_sha256"] == corrected.image.sha256
    ]
    rows[0]["catalog"] = ""  # any catalog holding these bytes
    path = tmp_path / "any.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (copy,) = store_images(shared_data, 1, catalog="second")
    assert copy.sha256 == corrected.image.sha256

    # when imported
    line, _ = _import(path)

    # then the copy has the curated description too
    assert line == "updated 1, unchanged 1, skipped 0, failed 0"
    assert VisualAnalysis.objects.get(image=copy).material_type == "marble"


def test_bad_rows_are_reported_and_skipped_and_good_ones_applied(curated, tmp_path):
    corrected, approved, untouched = curated
    good = {**untouched.description, "material_type": "terrazzo"}
    path = tmp_path / "mixed.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image_sha256", "description"])
        writer.writerow([untouched.image.sha256, json.dumps(good)])
        writer.writerow([approved.image.sha256, "{not json"])
        writer.writerow([approved.image.sha256, json.dumps({**good, "lightness": 400})])
        writer.writerow(["0" * 64, json.dumps(good)])

    line, err = _import(path)

    assert line == "updated 1, unchanged 0, skipped 1, failed 2"
    assert "line 3: description is not JSON" in err
    assert "line 4: lightness" in err
    assert "line 5: no stored image with sha256 000000000000" in err
    untouched.refresh_from_db()
    assert (untouched.material_type, untouched.source) == ("terrazzo", "curated")
    approved.refresh_from_db()
    assert approved.material_type == "wood"  # left as it was


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("sha,desc\nx,y\n", "the header lacks image_sha256, description"),
    ],
)
def test_an_unusable_file_is_refused_before_anything_is_written(
    curated, tmp_path, content, message
):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        _import(path)
    assert not AnalysisAuditEntry.objects.filter(action="import").exists()


def test_a_missing_file_or_user_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        _import(tmp_path / "nope.csv")
    path = tmp_path / "x.csv"
    path.write_text("image_sha256,description\n")
    with pytest.raises(CommandError, match="no user named 'ghost'"):
        _import(path, "--user", "ghost")


def test_dry_run_writes_nothing(curated, tmp_path):
    corrected, _, _ = curated
    _export(tmp_path)
    VisualAnalysis.objects.filter(pk=corrected.pk).update(material_type="stone")
    line, _ = _import(tmp_path / "labels.csv", "--dry-run")
    assert line == "dry run: updated 0, unchanged 2, skipped 0, failed 0"
    assert VisualAnalysis.objects.get(pk=corrected.pk).material_type == "stone"


def test_the_admin_action_exports_selected_curated_labels(curated, admin_client):
    corrected, approved, untouched = curated
    response = admin_client.post(
        "/admin/analysis/visualanalysis/",
        {
            "action": "export_curated_labels",
            "_selected_action": [str(corrected.pk), str(untouched.pk)],
        },
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    # only curated analyses are labels: the untouched one is left out
    assert [row["image_sha256"] for row in rows] == [corrected.image.sha256]
