"""A worker killed with SIGKILL in the middle of its tasks loses none of them, with either
broker: every analysis ends completed exactly once, with one set of result rows and one
answered (billed) model call per image.

With the Redis broker a task popped from the list is gone from Redis: the worker's pusher
had taken several more than it was running (its internal queue) when it died. The reaper
finds them (pending, queued longer ago than the retry time, no longer in the list); with
the database broker the broker itself delivers them again after the retry time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from django.conf import settings

from analysis.models import AnalysisStatus, Embedding, VisualAnalysis
from tests.analysis.pipeline_support import pending_analyses, store_images
from tests.fakes.processes import run_django
from tests.reliability.held_model import calls, held_dir

ROOT = Path(settings.BASE_DIR)
REDIS_URL = "redis://127.0.0.1:6379/0"
IMAGES = 12
DONE = [AnalysisStatus.COMPLETED, AnalysisStatus.NEEDS_REVIEW]


def _environment(broker: str, cluster: str) -> dict[str, str]:
    env = {
        "SWATCH_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SWATCH_PIPELINE_PROVIDERS": "tests.reliability.held_model.held_providers",
        "SWATCH_Q_WORKERS": "2",
        "SWATCH_Q_NAME": cluster,
        "SWATCH_CACHE_PREFIX": cluster,
        # Short, so the database broker delivers a lost task again within the test.
        "SWATCH_Q_TIMEOUT": "30",
        "SWATCH_Q_RETRY": "35",
        "SWATCH_LOG_LEVEL": "WARNING",
    }
    if broker == "redis":
        env["REDIS_URL"] = REDIS_URL
    return env


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    from tests.fakes.processes import _database_env

    full = {**os.environ, "SWATCH_ENV": "test", **_database_env(), **env}
    if "REDIS_URL" not in env:
        full.pop("REDIS_URL", None)
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT, env=full, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: killed as one, and only it
    )  # fmt: skip


def _kill(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)


def _wait_for(condition: Callable[[], bool], what: str, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; worker log:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def _django(code: str, env: dict[str, str]):
    if "REDIS_URL" not in env:
        env = {**env, "REDIS_URL": ""}
    return json.loads(run_django(code, env=env))


def _held() -> int:
    return sum(calls("started").values()) - sum(calls("billed").values())


@pytest.fixture
def held_model():
    folder = held_dir()
    for stale in folder.iterdir():
        stale.unlink()
    (folder / "allow").write_text("4")
    yield folder
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", ["redis", "orm"])
def test_a_worker_killed_mid_task_loses_no_analysis(broker, shared_data, tmp_path, held_model):
    cluster = f"swatch-kill-{uuid.uuid4().hex[:10]}"
    env, log = _environment(broker, cluster), tmp_path / "worker.log"
    connection = redis.Redis.from_url(REDIS_URL) if broker == "redis" else None
    queue_key = f"django_q:{cluster}:q"
    # given twelve queued analyses and a worker whose model answers four calls, then holds
    images = store_images(shared_data, IMAGES, catalog=f"killed-{broker}")
    ids = pending_analyses(images)
    _django(f"from analysis.queueing import analysis_enqueue\nanalysis_enqueue(analysis_ids={ids})"
            "\nprint('null')", env)  # fmt: skip
    worker = _start_worker(env, log)
    try:
        # when both of its processes are inside a model call (and, with Redis, its pusher
        # has taken tasks from the list that nobody runs yet), it is killed with SIGKILL
        def mid_task() -> bool:
            if _held() < 2:
                return False
            return connection is None or connection.llen(queue_key) < IMAGES - len(calls("started"))

        _wait_for(mid_task, "the worker mid-task", log)
        _kill(worker)
        running = set(
            VisualAnalysis.objects.filter(pk__in=ids, status=AnalysisStatus.RUNNING).values_list(
                "pk", flat=True
            )
        )
        assert len(running) >= 2
        if broker == "redis":  # tasks popped from Redis and lost with the worker
            lost = _django(
                "from analysis.models import VisualAnalysis\n"
                "from analysis.queueing import waiting_in_broker\n"
                f"pending = VisualAnalysis.objects.filter(pk__in={ids}, status='pending')\n"
                "waiting = waiting_in_broker()\n"
                "print([pk for pk in pending.values_list('pk', flat=True) if pk not in waiting])",
                env,
            )
            assert lost, "no task was lost: the test did not kill the worker mid-queue"
        # and the reaper runs (as the worker's schedule runs it), the gate opens, a new
        # worker starts
        requeued = _django(
            "from datetime import timedelta\nfrom analysis.queueing import analysis_reap_stuck\n"
            "print(analysis_reap_stuck(older_than=timedelta(0)).requeued)",
            env,
        )
        assert running <= set(requeued)
        (held_model / "open").touch()
        worker = _start_worker(env, log)

        # then every analysis completes, and every task is delivered and acknowledged
        def finished() -> bool:
            done = VisualAnalysis.objects.filter(pk__in=ids, status__in=DONE).count() == IMAGES
            if connection is not None:
                return done and connection.llen(queue_key) == 0
            from django_q.models import OrmQ

            return done and not OrmQ.objects.filter(key=cluster).exists()

        _wait_for(finished, "every analysis done and every task acknowledged", log)
    finally:
        _kill(worker)
        if connection is not None:
            for key in connection.scan_iter(f"*{cluster}*"):
                connection.delete(key)
    # once each: one answered (billed) model call per image, one set of embeddings each
    billed = calls("billed")
    assert len(billed) == IMAGES, billed
    assert set(billed.values()) == {1}, billed
    for image in images:
        kinds = sorted(Embedding.objects.filter(image=image).values_list("kind", flat=True))
        assert kinds == ["description", "image"]
    attempts = dict(VisualAnalysis.objects.filter(pk__in=ids).values_list("pk", "attempts"))
    assert {pk: attempts[pk] for pk in running} == {pk: 2 for pk in running}
