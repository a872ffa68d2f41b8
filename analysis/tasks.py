"""django-q2 tasks of the analysis app. They take ids, check state first and call one service.

A second delivery of a finished task finds its analysis no longer pending and does nothing,
so it calls no model; the reaper schedule returns analyses of lost workers to the queue.
"""

from __future__ import annotations

import logging

from django.conf import settings

from analysis.depth import analysis_options_parse
from analysis.ingest import analysis_run
from analysis.limits import store as limit_store
from analysis.queueing import analysis_reap_stuck
from analysis.schedules import repeating_schedule_ensure
from config.store import store

logger = logging.getLogger("swatch.analysis.tasks")

REAP_SCHEDULE_NAME = "swatch: reap stuck analyses"


def analysis_task(
    analysis_id: int, force_curated: bool = False, fresh: bool = False, analysis: dict | None = None
) -> str:
    """`analysis`: the options asked for (`{"vision", "clip", "depth"}`, analysis.depth)."""
    summary = analysis_run(
        analysis_id=int(analysis_id),
        force_curated=bool(force_curated),
        fresh=bool(fresh),
        options=analysis_options_parse(analysis) if analysis else None,
    )
    return summary.line()


def analysis_reap_task() -> str:
    """Stuck analyses back to the queue; also forgets the outbound limits' expired buckets and
    the shared store's expired entries."""
    limit_store.purge_expired()
    store().purge_expired()
    reaped = analysis_reap_stuck()
    if reaped.requeued or reaped.failed:
        logger.warning(
            "reaped stuck analyses: %d queued again, %d failed",
            len(reaped.requeued),
            len(reaped.failed),
        )
    return f"requeued {len(reaped.requeued)}, failed {len(reaped.failed)}"


def reap_schedule_ensure(**kwargs: object) -> None:
    """Install (or update) the worker's schedule that runs the reaper. Runs after `migrate`."""
    repeating_schedule_ensure(
        name=REAP_SCHEDULE_NAME,
        func="analysis.tasks.analysis_reap_task",
        minutes=settings.SWATCH["REAP_EVERY_MINUTES"],
        using=str(kwargs.get("using") or "default"),
    )
