"""What every django-q2 task of the worker gets, through django-q2's signals: a heartbeat
(for `/readyz`), its worker time (a `TaskRun` row and `swatch_task_*` series, the compute
side of the costs page), and the request id of the request that queued it (`task_tag`, at
`pre_enqueue`: it travels in the signed task package), bound while it runs so the task's log
lines carry it.

A heartbeat is also an every-minute schedule, for an idle worker; a busy one beats when a
task starts, since the scheduled beat may wait in the queue behind a long backlog.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from analysis.metrics import TASK_CPU_SECONDS, TASK_SECONDS
from analysis.schedules import repeating_schedule_ensure
from config.request_id import NO_REQUEST, request_id_get, request_id_reset, request_id_set

HEARTBEAT_SCHEDULE_NAME = "swatch: worker heartbeat"
logger = logging.getLogger("swatch.worker")
_last_beat: float | None = None
# Task id → (wall clock, CPU clock) at its start, in this worker process.
_started: dict[str, tuple[float, float, dt.datetime]] = {}
_bound: dict[str, object] = {}  # task id → the request-id context token to reset


def _worker_name() -> str:
    return f"{socket.gethostname()}:{settings.Q_CLUSTER['name']}"[:200]


def heartbeat_beat(*, at: dt.datetime | None = None) -> dt.datetime:
    """Record that a worker of this host and cluster is alive (now, or `at`)."""
    from analysis.models import WorkerHeartbeat

    at = at or timezone.now()
    WorkerHeartbeat.objects.update_or_create(worker=_worker_name(), defaults={"beat_at": at})
    return at


def heartbeat_task() -> str:
    return f"alive at {heartbeat_beat():%H:%M:%S} (pid {os.getpid()})"


def heartbeat_while_working(*, every_seconds: float = 15.0) -> None:
    """Beat when a task starts, at most every `every_seconds` per process."""
    global _last_beat
    now = time.monotonic()
    if _last_beat is not None and now - _last_beat < every_seconds:
        return
    _last_beat = now
    try:
        heartbeat_beat()
    except DatabaseError:
        logger.warning("could not record the worker heartbeat", exc_info=True)


def heartbeat_schedule_ensure(**kwargs: object) -> None:
    """Install the every-minute heartbeat schedule. Runs after `migrate`."""
    repeating_schedule_ensure(
        name=HEARTBEAT_SCHEDULE_NAME,
        func="analysis.worker.heartbeat_task",
        minutes=1,
        using=str(kwargs.get("using") or "default"),
    )


def task_name(task: dict) -> str:
    """`analysis.tasks.analysis_task` → `analysis_task` (the series' label)."""
    func = task.get("func")
    name = func if isinstance(func, str) else getattr(func, "__qualname__", repr(func))
    return str(name).rsplit(".", 1)[-1][:100]


def task_tag(*, task: dict, **_: object) -> None:
    """django-q2's `pre_enqueue`: the task carries the current request id, if any."""
    request_id = request_id_get()
    if request_id != NO_REQUEST:
        task["request_id"] = request_id


def task_started(*, task: dict, **_: object) -> None:
    """django-q2's `pre_execute`, in the worker process before the task runs."""
    heartbeat_while_working()
    key = str(task.get("id"))
    _bound[key] = request_id_set(str(task.get("request_id") or NO_REQUEST))
    _started[key] = (time.monotonic(), time.process_time(), timezone.now())
    logger.info("task %s started", task_name(task))


def task_finished(*, task: dict, **_: object) -> None:
    """django-q2's `post_execute_in_worker`: the task's worker time, counted and recorded."""
    key = str(task.get("id"))
    begun = _started.pop(key, None)
    if begun is None:
        return
    wall, cpu = time.monotonic() - begun[0], max(0.0, time.process_time() - begun[1])
    name, success = task_name(task), bool(task.get("success", False))
    logger.info("task %s %s in %.3f s", name, "done" if success else "failed", wall)
    token = _bound.pop(key, None)
    if token is not None:
        request_id_reset(token)
    TASK_SECONDS.labels(task=name, outcome="ok" if success else "error").observe(wall)
    TASK_CPU_SECONDS.labels(task=name).inc(cpu)
    from analysis.models import TaskRun

    try:
        TaskRun.objects.create(
            task=name, started_at=begun[2], wall_seconds=wall, cpu_seconds=cpu, success=success
        )
    except DatabaseError:
        logger.warning("could not record the worker time of task %s", name, exc_info=True)
