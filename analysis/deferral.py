"""Background work over a provider's limit waits for it: the analysis goes back to `pending`
(its attempt given back: waiting for a budget is no failure) and its task is rescheduled with
django-q2 for when the limit has room — one `Schedule` per analysis, named after it, written in
the same transaction as the row, so a deferral is never lost and never doubled. The worker's
scheduler turns it into a task at its time; nobody sleeps meanwhile."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from analysis.limits.outbound import defer_until
from analysis.models import AnalysisStatus
from analysis.models import VisualAnalysis as Analysis
from analysis.pipeline import PipelineFailure

logger = logging.getLogger("swatch.analysis")

TASK = "analysis.tasks.analysis_task"


def deferred_schedule_name(analysis_id: int) -> str:
    return f"analysis {analysis_id} deferred"


def analysis_defer(
    *,
    analysis_id: int,
    attempt: int | None,
    failure: PipelineFailure,
    force_curated: bool = False,
    fresh: bool = False,
    analysis: dict | None = None,
) -> str:
    """Back to pending and rescheduled for when the limit allows; "deferred" (or
    "superseded" when the row was claimed again meanwhile)."""
    from django_q.models import Schedule

    when = defer_until(failure.defer_provider, failure.defer_after)
    with transaction.atomic():
        row = Analysis.objects.select_for_update().get(pk=analysis_id)
        if attempt is not None:
            if row.status != AnalysisStatus.RUNNING or row.attempts != attempt:
                return "superseded"
            row.status = AnalysisStatus.PENDING
            row.attempts = max(row.attempts - 1, 0)
            row.error_reason = f"deferred: {failure.reason}"[:2000]
            row.save(update_fields=["status", "attempts", "error_reason", "updated_at"])
        kwargs: dict = {
            k: True for k, v in (("force_curated", force_curated), ("fresh", fresh)) if v
        }
        if analysis:
            kwargs["analysis"] = analysis  # the options asked for go with the task
        Schedule.objects.update_or_create(
            name=deferred_schedule_name(analysis_id),
            defaults={
                "func": TASK,
                "args": repr((analysis_id,)),
                "kwargs": repr(kwargs),
                "schedule_type": Schedule.ONCE,
                "repeats": -1,
                "next_run": dt.datetime.fromtimestamp(when, tz=dt.UTC),
            },
        )
    logger.info("analysis %s deferred to %s: %s", analysis_id, when, failure.reason)
    return "deferred"
