"""django-q2 tasks: idempotent deliveries, bounded attempts, the reaper, a killed worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django_q.models import OrmQ, Schedule
from django_q.tasks import async_task

from analysis.compute import pipeline_run
from analysis.ingest import analysis_run
from analysis.models import AnalysisStatus, Embedding, VisualAnalysis
from analysis.pipeline import PipelineOutput
from analysis.services import (
    analysis_claim,
    analysis_enqueue,
    analysis_reap_stuck,
    analysis_record,
)
from analysis.tasks import REAP_SCHEDULE_NAME
from tests.analysis.pipeline_support import (
    counted,
    gate_dir,
    make_providers,
    pending_analyses,
    store_images,
)

BASE_DIR = Path(__file__).resolve().parents[2]
COUNTING = "tests.analysis.pipeline_support.counting_providers"


pytestmark = pytest.mark.usefixtures("own_cache")


@pytest.fixture
def counting(settings):
    settings.SWATCH = {**settings.SWATCH, "PIPELINE_PROVIDERS": COUNTING}
    return counted()


@pytest.mark.django_db
def test_a_task_delivered_twice_runs_the_models_once(shared_data, counting):
    # given a pending analysis
    (image,) = store_images(shared_data, 1)
    (analysis_id,) = pending_analyses([image])

    # when django-q delivers its task twice
    async_task("analysis.tasks.analysis_task", analysis_id, sync=True)
    async_task("analysis.tasks.analysis_task", analysis_id, sync=True)

    # then each model was called once, and there is one analysis with one set of embeddings
    assert counting.describer.calls == 1
    assert counting.image_embedder.calls == 1
    assert counting.text_embedder.calls == 1
    analysis = VisualAnalysis.objects.get(image=image)
    assert (analysis.status, analysis.attempts) == (AnalysisStatus.COMPLETED, 1)
    assert Embedding.objects.filter(image=image).count() == 2


@pytest.mark.django_db
def test_only_one_claim_wins_and_attempts_are_bounded(shared_data, settings):
    # given a pending analysis and at most 2 attempts
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "max_attempts": 2}
    (image,) = store_images(shared_data, 1)
    (analysis_id,) = pending_analyses([image])

    # when two workers claim it, then only the first gets it
    assert analysis_claim(analysis_id=analysis_id) == 1
    assert analysis_claim(analysis_id=analysis_id) is None

    # when it is reaped and claimed again, the second attempt is its last
    analysis_reap_stuck(older_than=timedelta(0))
    assert analysis_claim(analysis_id=analysis_id) == 2
    reaped = analysis_reap_stuck(older_than=timedelta(0))

    # then the reaper gives up on it, with the reason
    analysis = VisualAnalysis.objects.get(pk=analysis_id)
    assert reaped.failed == [analysis_id]
    assert analysis.status == AnalysisStatus.FAILED
    assert analysis.error_reason.startswith("gave up after 2 attempts")
    assert analysis_claim(analysis_id=analysis_id) is None


@pytest.mark.django_db
def test_the_reaper_requeues_only_analyses_stuck_longer_than_the_timeout(
    shared_data, settings, django_capture_on_commit_callbacks
):
    # given two running analyses, one started long ago and one just now
    settings.Q_TIMEOUT = 300
    images = store_images(shared_data, 2)
    stuck, fresh = pending_analyses(images)
    analysis_claim(analysis_id=stuck)
    analysis_claim(analysis_id=fresh)
    VisualAnalysis.objects.filter(pk=stuck).update(
        started_at=timezone.now() - timedelta(seconds=301)
    )
    queued_before = OrmQ.objects.count()

    # when the reaper runs with the default age (the task timeout)
    with django_capture_on_commit_callbacks(execute=True):
        reaped = analysis_reap_stuck()

    # then only the stuck one is pending again, with a reason, and a task is queued for it
    assert reaped.requeued == [stuck]
    assert VisualAnalysis.objects.get(pk=stuck).status == AnalysisStatus.PENDING
    assert "reaped: stuck in running" in VisualAnalysis.objects.get(pk=stuck).error_reason
    assert VisualAnalysis.objects.get(pk=fresh).status == AnalysisStatus.RUNNING
    assert OrmQ.objects.count() == queued_before + 1
    assert OrmQ.objects.order_by("-pk").first().task["args"] == (stuck,)


def _claimed_and_computed(shared_data):
    """A pending analysis claimed by a run, and the outcome that run computed (not written)."""
    from analysis.ingest import _load_pixels
    from analysis.pipeline import PipelineInput

    (image,) = store_images(shared_data, 1)
    (analysis_id,) = pending_analyses([image])
    attempt = analysis_claim(analysis_id=analysis_id)
    (output,) = pipeline_run(
        inputs=[PipelineInput(analysis_id, image.sha256, _load_pixels(image))],
        providers=make_providers(),
    )
    return analysis_id, attempt, output


@pytest.mark.django_db
def test_a_late_write_of_a_reaped_run_is_dropped(shared_data):
    # given a first run that claimed the analysis and computed its outcome, then was reaped
    analysis_id, first_attempt, late = _claimed_and_computed(shared_data)
    assert isinstance(late, PipelineOutput)
    analysis_reap_stuck(older_than=timedelta(0))

    # when the second run completes, and then the first one tries to write
    analysis_run(analysis_id=analysis_id, providers=make_providers())
    outcome = analysis_record(analysis_id=analysis_id, attempt=first_attempt, output=late)

    # then the late write is dropped
    assert outcome == "superseded"
    assert VisualAnalysis.objects.get(pk=analysis_id).attempts == 2


@pytest.mark.django_db
def test_migrate_installs_the_reaper_schedule(settings):
    # given no reaper schedule
    Schedule.objects.filter(name=REAP_SCHEDULE_NAME).delete()

    # when migrate runs
    call_command("migrate", verbosity=0)

    # then the worker runs the reaper every SWATCH_REAP_EVERY_MINUTES
    schedule = Schedule.objects.get(name=REAP_SCHEDULE_NAME)
    assert schedule.func == "analysis.tasks.analysis_reap_task"
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        Schedule.MINUTES,
        settings.SWATCH["REAP_EVERY_MINUTES"],
        -1,
    )


def _start_worker(log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "SWATCH_ENV": "test",
        "SWATCH_DB_NAME": settings.DATABASES["default"]["NAME"],
        "SWATCH_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SWATCH_PIPELINE_PROVIDERS": "tests.analysis.pipeline_support.gated_providers",
        "SWATCH_Q_WORKERS": "1",
    }
    env.pop("REDIS_URL", None)  # the ORM broker, in the test database
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=BASE_DIR,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: killed as one, and only it
    )


def _kill(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)


def _wait_for(condition, what: str, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; worker log:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_task_leaves_a_job_that_is_reaped_and_done_once(shared_data, tmp_path):
    # given a queued analysis, and a real worker process whose describer blocks at a gate
    gates = gate_dir()
    for stale in gates.iterdir():
        stale.unlink()
    calls = gates / "calls.log"
    log = tmp_path / "qcluster.log"
    (image,) = store_images(shared_data, 1)
    (analysis_id,) = pending_analyses([image])
    analysis_enqueue(analysis_ids=[analysis_id])
    worker = _start_worker(log)
    try:
        _wait_for(lambda: calls.exists() and "started" in calls.read_text(), "the task", log)
        assert VisualAnalysis.objects.get(pk=analysis_id).status == AnalysisStatus.RUNNING

        # when the worker is killed -9 mid-task
        _kill(worker)

        # then the analysis is stuck in running, with nothing written
        stuck = VisualAnalysis.objects.get(pk=analysis_id)
        assert (stuck.status, stuck.attempts) == (AnalysisStatus.RUNNING, 1)
        assert not Embedding.objects.filter(image=image).exists()

        # when the reaper runs and a new worker starts (the gate now open)
        assert analysis_reap_stuck(older_than=timedelta(0)).requeued == [analysis_id]
        (gates / "open").touch()
        worker = _start_worker(log)
        _wait_for(
            lambda: VisualAnalysis.objects.get(pk=analysis_id).status == AnalysisStatus.COMPLETED,
            "the retried task",
            log,
        )
        call_log = calls.read_text().split()
    finally:
        _kill(worker)
        for path in gates.iterdir():
            path.unlink()
        gates.rmdir()

    # then there is exactly one analysis, done on the second attempt, with one embedding each
    assert VisualAnalysis.objects.filter(image=image).count() == 1
    assert VisualAnalysis.objects.get(image=image).attempts == 2
    assert sorted(Embedding.objects.filter(image=image).values_list("kind", flat=True)) == [
        "description",
        "image",
    ]
    # and the describer was entered twice (killed once) and finished once
    assert call_log == ["started", "started", "finished"]


@pytest.mark.django_db
def test_a_recorded_analysis_invalidates_cached_search_answers(
    shared_data, django_capture_on_commit_callbacks
):
    from analysis.curation.revision import descriptions_revision

    # given a claimed analysis whose outcome is computed
    analysis_id, attempt, output = _claimed_and_computed(shared_data)
    before = descriptions_revision()

    # when it is recorded and the transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        assert analysis_record(analysis_id=analysis_id, attempt=attempt, output=output) in {
            "completed", "needs_review"
        }  # fmt: skip

    # then the revision search answers are cached under moved on
    assert descriptions_revision() > before
