"""A lost task is found again, and queued again with the options it was queued with."""

from __future__ import annotations

import ast
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from analysis.ingest import analysis_run
from analysis.models import AnalysisStatus, VisualAnalysis
from analysis.pipeline import PipelineFailure
from analysis.queueing import analysis_reap_stuck
from analysis.services import analysis_claim, analysis_fail, analysis_queue_for_images
from analysis.tasks import analysis_task
from tests.analysis.pipeline_support import (
    counted,
    pending_analyses,
    store_images,
)

pytestmark = pytest.mark.usefixtures("own_cache")
COUNTING = "tests.analysis.pipeline_support.counting_providers"


@pytest.fixture
def counting(settings):
    settings.SWATCH = {**settings.SWATCH, "PIPELINE_PROVIDERS": COUNTING}
    return counted()


def _last_task() -> dict:
    return OrmQ.objects.order_by("-pk").first().task


@pytest.mark.django_db
def test_a_forced_reanalysis_lost_with_its_worker_is_queued_again_still_forced(
    shared_data, counting, django_capture_on_commit_callbacks
):
    # given an analysed image (its description in the cache)
    (image,) = store_images(shared_data, 1, catalog="forced")
    (analysis_id,) = pending_analyses([image])
    analysis_run(analysis_id=analysis_id)
    assert counting.describer.calls == 1
    # when it is re-analysed with --force, and the worker that took the task dies mid-task
    with django_capture_on_commit_callbacks(execute=True):
        analysis_queue_for_images(image_ids=[image.pk], force=True)
    assert _last_task()["kwargs"] == {"fresh": True}
    OrmQ.objects.all().delete()  # the task went with the worker
    assert analysis_claim(analysis_id=analysis_id) == 1
    # and the reaper finds it
    with django_capture_on_commit_callbacks(execute=True):
        assert analysis_reap_stuck(older_than=timedelta(0)).requeued == [analysis_id]
    # then the task queued again still forces: the model is asked again, not the cache
    task = _last_task()
    assert task["kwargs"] == {"fresh": True}
    analysis_task(*task["args"], **task["kwargs"])
    assert counting.describer.calls == 2
    assert VisualAnalysis.objects.get(pk=analysis_id).status == AnalysisStatus.COMPLETED


@pytest.mark.django_db
def test_a_forced_curated_reanalysis_retried_after_a_failure_keeps_its_option(
    shared_data, django_capture_on_commit_callbacks
):
    # given a curated analysis queued again with force_curated
    (image,) = store_images(shared_data, 1, catalog="curated-forced")
    (analysis_id,) = pending_analyses([image])
    VisualAnalysis.objects.filter(pk=analysis_id).update(
        status=AnalysisStatus.APPROVED, source="curated"
    )
    with django_capture_on_commit_callbacks(execute=True):
        analysis_queue_for_images(image_ids=[image.pk], force_curated=True)
    assert _last_task()["kwargs"] == {"force_curated": True, "fresh": True}
    # when its run fails with a retryable error
    attempt = analysis_claim(analysis_id=analysis_id)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = analysis_fail(
            analysis_id=analysis_id,
            attempt=attempt,
            failure=PipelineFailure(analysis_id, "model busy", True),
        )
    # then the retry scheduled carries the same options
    assert outcome == "retrying"
    retry = Schedule.objects.filter(name__startswith=f"analysis {analysis_id} retry").get()
    assert ast.literal_eval(retry.kwargs) == {"force_curated": True, "fresh": True}


@pytest.mark.django_db
def test_a_pending_analysis_whose_task_vanished_is_queued_again_one_still_queued_is_not(
    shared_data, settings, django_capture_on_commit_callbacks
):
    # given two pending analyses queued long ago; only one's task is still in the queue
    settings.Q_RETRY = 360
    images = store_images(shared_data, 2, catalog="vanished")
    lost, waiting = pending_analyses(images)
    with django_capture_on_commit_callbacks(execute=True):
        from analysis.queueing import analysis_enqueue

        analysis_enqueue(analysis_ids=[lost, waiting])
    long_ago = timezone.now() - timedelta(seconds=361)
    VisualAnalysis.objects.filter(pk__in=[lost, waiting]).update(queued_at=long_ago)
    for row in OrmQ.objects.all():
        if row.task["args"] == (lost,):
            row.delete()  # popped by a worker that died before it started the task
    # when the reaper runs with its default ages
    with django_capture_on_commit_callbacks(execute=True):
        reaped = analysis_reap_stuck()
    # then only the lost one is queued again
    assert reaped.requeued == [lost]
    assert sorted(row.task["args"][0] for row in OrmQ.objects.all()) == sorted([lost, waiting])
    # and a pending analysis queued recently is left alone
    with django_capture_on_commit_callbacks(execute=True):
        assert analysis_reap_stuck().requeued == []
