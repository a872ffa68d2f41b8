"""What every django-q2 task of the worker gets, through django-q2's signals: a heartbeat
(for `/readyz`), its worker time (a `TaskRun` row and `swatch_task_*` series, the compute
side of the costs page).

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
from django.db import DatabaseError, connections
from django.utils import timezone

from analysis.metrics import TASK_CPU_SECONDS, TASK_SECONDS

HEARTBEAT_SCHEDULE_NAME = "swatch: worker heartbeat"
logger = logging.getLogger("swatch.worker")
_last_beat: float | None = None
# Task id → (wall clock, CPU clock) at its start, in this worker process.
_started: dict[str, tuple[float, float, dt.datetime]] = {}


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
    from django_q.models import Schedule

    using = str(kwargs.get("using") or "default")
    if Schedule._meta.db_table not in connections[using].introspection.table_names():
        return  # django_q not migrated (yet)
    Schedule.objects.using(using).update_or_create(
        name=HEARTBEAT_SCHEDULE_NAME,
        defaults={
            "func": "analysis.worker.heartbeat_task",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )


def task_name(task: dict) -> str:
    """`analysis.tasks.analysis_task` → `analysis_task` (the series' label)."""
    func = task.get("func")
    name = func if isinstance(func, str) else getattr(func, "__qualname__", repr(func))
    return str(name).rsplit(".", 1)[-1][:100]


def task_started(*, task: dict, **_: object) -> None:
    """django-q2's `pre_execute`, in the worker process before the task runs."""
    heartbeat_while_working()
    _started[str(task.get("id"))] = (time.monotonic(), time.process_time(), timezone.now())


def task_finished(*, task: dict, **_: object) -> None:
    """django-q2's `post_execute_in_worker`: the task's worker time, counted and recorded."""
    begun = _started.pop(str(task.get("id")), None)
    if begun is None:
        return
    wall, cpu = time.monotonic() - begun[0], max(0.0, time.process_time() - begun[1])
    name, success = task_name(task), bool(task.get("success", False))
    TASK_SECONDS.labels(task=name, outcome="ok" if success else "error").observe(wall)
    TASK_CPU_SECONDS.labels(task=name).inc(cpu)
    from analysis.models import TaskRun

    try:
        TaskRun.objects.create(
            task=name, started_at=begun[2], wall_seconds=wall, cpu_seconds=cpu, success=success
        )
    except DatabaseError:
        logger.warning("could not record the worker time of task %s", name, exc_info=True)
