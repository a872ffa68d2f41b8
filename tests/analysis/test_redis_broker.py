"""With REDIS_URL set, analysis tasks travel through Redis (not the database) to a real worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings

from analysis.models import AnalysisStatus, Embedding, VisualAnalysis
from tests.analysis.pipeline_support import pending_analyses, store_images

BASE_DIR = Path(settings.BASE_DIR)
REDIS_URL = "redis://127.0.0.1:6379/0"


def _environment(cluster: str) -> dict[str, str]:
    return {
        **os.environ,
        "SWATCH_ENV": "test",
        "REDIS_URL": REDIS_URL,
        "SWATCH_Q_NAME": cluster,
        "SWATCH_CACHE_PREFIX": cluster,
        "SWATCH_DB_NAME": settings.DATABASES["default"]["NAME"],
        "SWATCH_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SWATCH_Q_WORKERS": "1",
    }


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_tasks_go_through_redis_to_a_worker_that_completes_them(shared_data, tmp_path):
    connection = redis.Redis.from_url(REDIS_URL)
    connection.ping()
    cluster = f"swatch-test-{uuid.uuid4().hex[:10]}"
    queue_key = f"django_q:{cluster}:q"
    environment = _environment(cluster)
    # given two stored images with pending analyses
    images = store_images(shared_data, 2, catalog="redis-broker")
    analysis_ids = pending_analyses(images)
    log = tmp_path / "worker.log"
    worker = None
    try:
        # when another process (as the web server would) queues them with REDIS_URL set
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c",
             "from analysis.services import analysis_enqueue; "
             f"analysis_enqueue(analysis_ids={analysis_ids})"],
            cwd=BASE_DIR, env=environment, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        # then the tasks wait in the Redis list, not in the database's queue table
        assert connection.llen(queue_key) == 2
        from django_q.models import OrmQ

        assert OrmQ.objects.count() == 0
        # and a real worker on the Redis broker takes them and finishes both analyses
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=BASE_DIR, env=environment, stdout=log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while (
            VisualAnalysis.objects.filter(
                pk__in=analysis_ids,
                status__in=[AnalysisStatus.COMPLETED, AnalysisStatus.NEEDS_REVIEW],
            ).count()
            < 2
        ):
            if time.monotonic() > deadline:
                pytest.fail(f"worker did not finish; log:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        for key in connection.scan_iter(f"*{cluster}*"):
            connection.delete(key)
    assert connection.llen(queue_key) == 0
    assert Embedding.objects.filter(image__in=images, kind="image").count() == 2
    assert Embedding.objects.filter(image__in=images, kind="description").count() == 2
