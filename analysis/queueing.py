"""Delivery of analysis tasks that loses nothing, with either broker.

Every queued analysis is stamped on its row: when it was queued (`queued_at`) and with which
options (`queue_options`: `force_curated`, `fresh`), so the options travel with the analysis,
not only with the task. A task can be lost in two ways: a worker killed while running it (the
row stays `running`), or with the Redis broker, which keeps no delivery receipts, a task
popped from the list by a worker that died before it started (the row stays `pending`). The
reaper takes both: `running` rows older than the task timeout, and `pending` rows queued
longer ago than the retry time whose task is no longer waiting in the broker's queue. A task
delivered twice is harmless: the claim (pending → running) lets only one run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from analysis.depth import AnalysisOptions, analysis_options_parse
from analysis.models import AnalysisStatus
from analysis.models import VisualAnalysis as Analysis

logger = logging.getLogger("swatch.analysis.queue")

TASK = "analysis.tasks.analysis_task"
OPTIONS = ("force_curated", "fresh")


@dataclass(frozen=True)
class ReapSummary:
    requeued: list[int]
    failed: list[int]


def max_attempts() -> int:
    return int(settings.Q_CLUSTER.get("max_attempts") or 3)


def analysis_enqueue(
    *,
    analysis_ids: Iterable[int],
    force_curated: bool = False,
    fresh: bool = False,
    delay_seconds: int = 0,
    analysis: dict | None = None,
) -> None:
    """Stamp the rows (when, with which options) and queue one task per analysis once the
    current transaction commits. `fresh`: a forced re-analysis, which asks the models again
    instead of reading the cache."""
    ids = list(analysis_ids)
    if not ids:
        return
    chosen = zip(OPTIONS, (force_curated, fresh), strict=True)
    kwargs: dict = {name: True for name, value in chosen if value}
    if analysis and analysis_options_parse(analysis) != AnalysisOptions():
        kwargs["analysis"] = dict(analysis)  # vision, clip, depth (analysis.depth)
    Analysis.objects.filter(pk__in=ids).update(
        queued_at=timezone.now() + timedelta(seconds=max(0, delay_seconds)),
        queue_options=kwargs,
    )

    def send() -> None:
        from django_q.models import Schedule
        from django_q.tasks import async_task, schedule

        for pk in ids:
            if delay_seconds > 0:
                schedule(
                    TASK,
                    pk,
                    **kwargs,
                    name=f"analysis {pk} retry {timezone.now():%Y%m%d%H%M%S%f}",
                    schedule_type=Schedule.ONCE,
                    next_run=timezone.now() + timedelta(seconds=delay_seconds),
                )
            else:
                async_task(TASK, pk, **kwargs, group="analysis")

    transaction.on_commit(send)


def analysis_requeue(*, analysis_ids: Iterable[int], delay_seconds: int = 0) -> None:
    """Queue these analyses again with the options they were queued with."""
    by_options: dict[tuple, list[int]] = {}
    rows = Analysis.objects.filter(pk__in=list(analysis_ids)).values_list("pk", "queue_options")
    for pk, options in rows.order_by("pk"):
        options = options if isinstance(options, dict) else {}
        asked = options.get("analysis") if isinstance(options.get("analysis"), dict) else {}
        flags = tuple(bool(options.get(name)) for name in OPTIONS)
        by_options.setdefault((flags, tuple(sorted(asked.items()))), []).append(pk)
    for (flags, asked), ids in by_options.items():
        analysis_enqueue(
            analysis_ids=ids,
            delay_seconds=delay_seconds,
            analysis=dict(asked) or None,
            **dict(zip(OPTIONS, flags, strict=True)),
        )


def _analysis_id_of(task: object) -> int | None:
    if not isinstance(task, dict) or task.get("func") != TASK:
        return None
    args = task.get("args") or ()
    try:
        return int(args[0])
    except (IndexError, TypeError, ValueError):
        return None


def waiting_in_broker() -> set[int]:
    """Ids of the analyses whose task still waits in the broker's queue (or, with the database
    broker, is held by a delivery the broker will make again after the retry time)."""
    from django_q.brokers import get_broker
    from django_q.models import OrmQ
    from django_q.signing import BadSignature, SignedPackage

    broker = get_broker()
    if "orm" in settings.Q_CLUSTER:
        payloads: Iterable = OrmQ.objects.filter(key=broker.list_key).values_list(
            "payload", flat=True
        )
    else:
        payloads = broker.connection.lrange(broker.list_key, 0, -1)
    waiting = set()
    for payload in payloads:
        try:
            task = SignedPackage.loads(payload)
        except (BadSignature, ValueError, TypeError, EOFError):
            continue
        analysis_id = _analysis_id_of(task)
        if analysis_id is not None:
            waiting.add(analysis_id)
    return waiting


def _lost_pending(cutoff) -> list[int]:
    stale = Q(queued_at__lt=cutoff) | Q(queued_at__isnull=True, updated_at__lt=cutoff)
    candidates = list(
        Analysis.objects.filter(stale, status=AnalysisStatus.PENDING).values_list("pk", flat=True)
    )
    if not candidates:
        return []
    waiting = waiting_in_broker()
    return [pk for pk in candidates if pk not in waiting]


def analysis_reap_stuck(*, older_than: timedelta | None = None) -> ReapSummary:
    """Analyses whose task was lost: `running` ones of a killed or timed-out worker (older
    than the task timeout), `pending` ones whose task is gone (queued longer ago than the
    retry time, not in the broker's queue). Back to the queue with their options, or failed
    once their attempts are used up. `older_than` replaces both ages."""
    running_age = older_than if older_than is not None else timedelta(seconds=settings.Q_TIMEOUT)
    pending_age = older_than if older_than is not None else timedelta(seconds=settings.Q_RETRY)
    now = timezone.now()
    lost = _lost_pending(now - pending_age)
    with transaction.atomic():
        stuck = list(
            Analysis.objects.select_for_update(skip_locked=True)
            .filter(status=AnalysisStatus.RUNNING, started_at__lt=now - running_age)
            .values_list("pk", "attempts")
        )
        requeue = [pk for pk, attempts in stuck if attempts < max_attempts()]
        give_up = [pk for pk, attempts in stuck if attempts >= max_attempts()]
        seconds = int(running_age.total_seconds())
        reason = f"stuck in running for more than {seconds} s (worker lost)"
        Analysis.objects.filter(pk__in=requeue).update(
            status=AnalysisStatus.PENDING, error_reason=f"reaped: {reason}"
        )
        Analysis.objects.filter(pk__in=give_up).update(
            status=AnalysisStatus.FAILED,
            finished_at=timezone.now(),
            error_reason=f"gave up after {max_attempts()} attempts: {reason}",
        )
        # Pending rows still pending now (a task may have claimed one meanwhile).
        lost = list(
            Analysis.objects.filter(pk__in=lost, status=AnalysisStatus.PENDING).values_list(
                "pk", flat=True
            )
        )
        if lost:
            logger.warning("%d pending analyses had lost their task: queued again", len(lost))
        analysis_requeue(analysis_ids=sorted([*requeue, *lost]))
    return ReapSummary(requeued=sorted([*requeue, *lost]), failed=give_up)
