"""`analyze_catalog [--catalog NAME] [--sync] [--force] [--force-curated]`."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_q.models import OrmQ

from analysis.models import AnalysisSource, AnalysisStatus, Embedding, VisualAnalysis
from tests.analysis.pipeline_support import (
    PixelStatsDescriber,
    counted,
    store_images,
)

pytestmark = pytest.mark.usefixtures("own_cache")
COUNTING = "tests.analysis.pipeline_support.counting_providers"


@pytest.fixture
def counting(settings):
    settings.SWATCH = {**settings.SWATCH, "PIPELINE_PROVIDERS": COUNTING}
    return counted()


def _analyze(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("analyze_catalog", *args, stdout=out, stderr=err)
    return out.getvalue().strip().splitlines()[-1], err.getvalue()


@pytest.mark.django_db
def test_sync_analyses_the_catalog_in_batches_and_ends_with_a_summary(shared_data, counting):
    # given a catalog of five textures and another catalog
    images = store_images(shared_data, 5, catalog="acme")
    store_images(shared_data, 1, catalog="other", skip=10)

    # when it is analysed inline in batches of 2
    line, _ = _analyze("--catalog", "acme", "--sync", "--batch-size", "2")

    # then all five are analysed and embedded (three embedder batches), the other catalog not
    assert line == (
        "analysed 5 of acme: completed 5, needs review 0, failed 0, retrying 0, deferred 0, "
        "embeddings refreshed 0, skipped 0"
    )
    assert counting.image_embedder.calls == 3
    assert Embedding.objects.filter(image__in=images).count() == 10
    assert not VisualAnalysis.objects.filter(image__catalog__name="other").exists()

    # when it runs again, then there is nothing left to do and no model is called
    line, _ = _analyze("--catalog", "acme", "--sync")
    assert line.startswith("analysed 0 of acme")
    assert counting.describer.calls == 5


@pytest.mark.django_db
def test_by_default_it_queues_one_task_per_analysis(
    shared_data, counting, django_capture_on_commit_callbacks
):
    # given a catalog of three textures
    store_images(shared_data, 3, catalog="acme")

    # when analyze_catalog runs without --sync
    with django_capture_on_commit_callbacks(execute=True):
        line, _ = _analyze("--catalog", "acme")

    # then three tasks wait for the worker and no model was called here
    assert line == "queued 3 analyses of acme"
    tasks = [t.task for t in OrmQ.objects.all()]
    assert sorted(t["args"][0] for t in tasks) == sorted(
        VisualAnalysis.objects.values_list("pk", flat=True)
    )
    assert {t["func"] for t in tasks} == {"analysis.tasks.analysis_task"}
    assert counting.describer.calls == 0


@pytest.mark.django_db
def test_force_redoes_done_analyses_but_keeps_curated_ones_unless_asked(shared_data, counting):
    # given an analysed catalog of three, one of which a curator then edited
    images = store_images(shared_data, 3, catalog="acme")
    _analyze("--catalog", "acme", "--sync")
    curated = VisualAnalysis.objects.get(image=images[0])
    edited = {**curated.description, "material_type": "marble", "category": "stone"}
    VisualAnalysis.objects.filter(pk=curated.pk).update(
        source=AnalysisSource.CURATED,
        status=AnalysisStatus.APPROVED,
        description=edited,
        material_type="marble",
    )
    counted(describer=PixelStatsDescriber(material_type="wood"))

    # when --force runs
    line, _ = _analyze("--catalog", "acme", "--sync", "--force")

    # then the two model analyses are redone, the curated one keeps its description and gets
    # embeddings of it
    assert "completed 2" in line
    assert "embeddings refreshed 1" in line
    curated.refresh_from_db()
    assert (curated.source, curated.material_type, curated.description) == (
        "curated",
        "marble",
        edited,
    )
    assert set(
        VisualAnalysis.objects.exclude(pk=curated.pk).values_list("material_type", flat=True)
    ) == {"wood"}

    # when --force-curated runs, then the curated one is overwritten too
    _analyze("--catalog", "acme", "--sync", "--force-curated")
    curated.refresh_from_db()
    assert (curated.source, curated.material_type) == ("offline", "wood")


@pytest.mark.django_db
def test_failed_analyses_are_retried_and_reported(shared_data, counting):
    # given a catalog where one stored file is damaged
    images = store_images(shared_data, 2, catalog="acme")
    with open(images[0].image.path, "wb") as handle:
        handle.write(b"garbage")

    # when it is analysed
    line, err = _analyze("--catalog", "acme", "--sync")

    # then the summary counts the failure and the reason is printed
    assert "completed 1, needs review 0, failed 1" in line
    assert "failed: image unreadable" in err
    assert VisualAnalysis.objects.get(image=images[0]).status == AnalysisStatus.FAILED


@pytest.mark.django_db
def test_an_unknown_catalog_is_a_clear_error():
    with pytest.raises(CommandError, match="no catalog named 'nope'"):
        _analyze("--catalog", "nope")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_demo_catalog_arrives_analysed_and_embedded_with_the_offline_defaults():
    # given the run command's steps: import the demo catalog, then analyse it inline, with the
    # default (offline) providers and no network
    from analysis.providers.factory import reset_providers

    reset_providers()
    demo = Path(__file__).resolve().parents[2] / "demo"
    out = io.StringIO()
    call_command(
        "import_catalog", str(demo), "--labels", str(demo / "labels.csv"), "--catalog", "demo",
        stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    imported = int(out.getvalue().strip().splitlines()[-1].split()[1].rstrip(","))

    # when analyze_catalog --catalog demo --sync runs
    line, _ = _analyze("--catalog", "demo", "--sync")

    # then every demo image has an offline analysis and both offline embeddings
    analyses = VisualAnalysis.objects.filter(image__catalog__name="demo")
    assert analyses.count() == imported > 0
    assert set(analyses.values_list("status", flat=True)) <= {"completed", "needs_review"}
    assert set(analyses.values_list("source", flat=True)) == {"offline"}
    assert "failed 0" in line
    models = set(Embedding.objects.filter(image__catalog__name="demo").values_list("kind", "model"))
    assert models == {("image", "efficientnet-lite0"), ("description", "all-minilm-l6-v2")}
    assert Embedding.objects.filter(image__catalog__name="demo").count() == 2 * imported
