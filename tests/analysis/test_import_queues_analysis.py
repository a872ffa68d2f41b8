"""Importing a catalog queues the analysis of its new images, after the import commits."""

from __future__ import annotations

import ast
import io
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django_q.conf import Conf
from django_q.models import OrmQ

from analysis.models import AnalysisStatus, Embedding, VisualAnalysis
from analysis.services import analysis_queue_for_images
from materials.importer import catalog_import, collect_items
from materials.models import MaterialImage
from materials.services import catalog_get_or_create
from tests.analysis.pipeline_support import (
    counted,
    store_images,
)

pytestmark = pytest.mark.usefixtures("own_cache")
MATERIALS_APP = Path(__file__).resolve().parents[2] / "materials"


@pytest.fixture
def folder(shared_data, tmp_path) -> Path:
    """Three real textures in two category folders."""
    files = sorted((shared_data / "images").rglob("*.png"))
    picked = [files[0], files[1], files[40]]
    for path in picked:
        target = tmp_path / "import" / path.parent.name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / path.name)
    return tmp_path / "import"


def _queued_ids() -> list[int]:
    return sorted(
        task.task["args"][0]
        for task in OrmQ.objects.all()
        if task.task["func"] == "analysis.tasks.analysis_task"
    )


def _import(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_catalog", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_importing_queues_one_analysis_task_per_new_image(
    folder, django_capture_on_commit_callbacks
):
    # when a folder is imported
    with django_capture_on_commit_callbacks(execute=True):
        out, err = _import(str(folder), "--catalog", "acme")

    # then each new image has a pending analysis with a task queued for it
    images = MaterialImage.objects.filter(catalog__name="acme")
    analyses = VisualAnalysis.objects.filter(image__in=images)
    assert images.count() == 3
    assert sorted(analyses.values_list("status", flat=True)) == ["pending"] * 3
    assert _queued_ids() == sorted(analyses.values_list("pk", flat=True))
    assert "queued analysis of 3 images" in err
    assert out.strip().splitlines()[-1] == "imported 3, skipped 0, failed 0"

    # when the same folder is imported again, then nothing new is queued
    with django_capture_on_commit_callbacks(execute=True):
        _import(str(folder), "--catalog", "acme")
    assert len(_queued_ids()) == 3


@pytest.mark.django_db
def test_the_import_service_queues_the_analysis_itself(folder, django_capture_on_commit_callbacks):
    # given the folder's items and a catalog, imported by the service (no command)
    catalog = catalog_get_or_create(name="service")
    items = collect_items(folder, None)

    # when they are imported with analysis options, and again without
    with django_capture_on_commit_callbacks(execute=True):
        summary = catalog_import(catalog=catalog, items=items, analysis={"depth": "basic"})
    with django_capture_on_commit_callbacks(execute=True):
        again = catalog_import(catalog=catalog, items=items, analysis={"depth": "basic"})

    # then the first queues its new images with those options, the second has none new
    analyses = VisualAnalysis.objects.filter(image__catalog=catalog)
    assert summary.queued == 3
    assert again.queued == 0
    assert _queued_ids() == sorted(analyses.values_list("pk", flat=True))
    asked = [t.task["kwargs"].get("analysis") for t in OrmQ.objects.all()]
    assert asked == [{"depth": "basic"}] * 3


@pytest.mark.django_db
def test_no_analysis_imports_without_queueing(folder, django_capture_on_commit_callbacks):
    # when a folder is imported with --no-analysis
    with django_capture_on_commit_callbacks(execute=True):
        _import(str(folder), "--catalog", "quiet", "--no-analysis")

    # then the images are there, with neither analyses nor tasks
    assert MaterialImage.objects.filter(catalog__name="quiet").count() == 3
    assert not VisualAnalysis.objects.exists()
    assert _queued_ids() == []


@pytest.mark.django_db
def test_tasks_are_sent_only_when_the_transaction_commits(
    shared_data, django_capture_on_commit_callbacks
):
    # given two stored images
    images = store_images(shared_data, 2)

    # when their analysis is queued inside a transaction
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            queued = analysis_queue_for_images(image_ids=[image.pk for image in images])
            # then nothing is sent before the commit
            assert _queued_ids() == []
    assert queued == 2
    assert _queued_ids() == []

    # when it commits, the tasks go out
    for callback in callbacks:
        callback()
    assert len(_queued_ids()) == 2


@pytest.mark.django_db
def test_with_inline_tasks_an_import_arrives_analysed(
    folder, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # given tasks that run inline, as SWATCH_Q_SYNC=true does (django-q2 reads Q_CLUSTER once,
    # at import, so the test sets its parsed value), and counting real providers
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.SWATCH = {
        **settings.SWATCH,
        "PIPELINE_PROVIDERS": "tests.analysis.pipeline_support.counting_providers",
    }
    providers = counted()

    # when a folder is imported
    with django_capture_on_commit_callbacks(execute=True):
        _import(str(folder), "--catalog", "inline")

    # then every image is analysed and embedded, one model call each
    analyses = VisualAnalysis.objects.filter(image__catalog__name="inline")
    assert sorted(analyses.values_list("status", flat=True)) == [AnalysisStatus.COMPLETED] * 3
    assert Embedding.objects.filter(image__catalog__name="inline").count() == 6
    assert providers.describer.calls == 3


def test_materials_never_imports_analysis():
    # the dependency points materials ← analysis: the import hook is a dotted path in settings
    offenders = []
    for path in MATERIALS_APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "analysis"]
    assert offenders == []
