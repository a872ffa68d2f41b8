"""A worker started while Redis is down waits for it (and says so) instead of exiting, and
starts its cluster once Redis answers: a real `manage.py qcluster` and a real redis-server on
a port of this test's own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(condition, what: str, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; log:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def _stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def test_a_worker_started_while_redis_is_down_waits_then_starts(tmp_path):
    port = _free_port()
    cluster = f"swatch-wait-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "SWATCH_ENV": "test",
        "SWATCH_DB_NAME": settings.DATABASES["default"]["NAME"],
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "SWATCH_Q_NAME": cluster,
        "SWATCH_Q_WORKERS": "1",
        "SWATCH_Q_LOG_LEVEL": "INFO",
    }
    worker = redis_server = None
    try:
        # given Redis down: the worker starts, says it waits, and stays up
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
            stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        _wait_for(lambda: log.read_text().count("does not answer") >= 2, "two failed pings", log)
        assert worker.poll() is None, log.read_text()[-3000:]
        # when Redis comes up
        redis_server = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=(tmp_path / "redis.log").open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        # then the worker starts its cluster
        _wait_for(lambda: "answers again" in log.read_text(), "the broker answering", log)
        _wait_for(lambda: "running." in log.read_text(), "the cluster running", log)
        assert worker.poll() is None
    finally:
        _stop(worker)
        _stop(redis_server)
