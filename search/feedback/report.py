"""The feedback dashboard's report: the business figures per day for every catalog or one,
per catalog over the period, and their charts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.safestring import SafeString

from materials.models import Catalog
from search.feedback.charts import share_chart
from search.feedback.figures import ALL, Figures, feedback_figures, feedback_totals

MAX_DAYS = 366
DEFAULT_DAYS = 30
CHARTS = (
    ("accuracy", "Accuracy"),
    ("mrr", "Mean reciprocal rank of clicks"),
    ("satisfaction", "Satisfaction"),
    ("conversion_rate", "Conversion"),
    ("zero_result_rate", "Zero-result rate"),
)


class FeedbackReportError(ValueError):
    pass


@dataclass(frozen=True)
class FeedbackReport:
    days: int
    since: dt.datetime
    until: dt.datetime
    catalog: Catalog | None
    catalogs: list[Catalog]
    per_day: list[tuple[dt.date, Figures]]  # newest first
    per_catalog: list[tuple[Catalog, Figures]]
    total: Figures
    charts: list[tuple[str, SafeString]]


def report_window(*, days: int, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The last `days` UTC days, today included."""
    now = now or timezone.now()
    today = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - dt.timedelta(days=days - 1), today + dt.timedelta(days=1)


def feedback_report(*, days: int = DEFAULT_DAYS, catalog_id: int | None = None) -> FeedbackReport:
    if not 1 <= days <= MAX_DAYS:
        raise FeedbackReportError(f"days must be between 1 and {MAX_DAYS}, not {days}")
    catalog = Catalog.objects.filter(pk=catalog_id).first() if catalog_id else None
    if catalog_id and catalog is None:
        raise FeedbackReportError(f"no catalog #{catalog_id}")
    since, until = report_window(days=days)
    table = feedback_figures(since=since, until=until)
    key = catalog.pk if catalog else ALL
    dates = [(since + dt.timedelta(days=n)).date() for n in range(days)]
    per_day = [(day, table.get((day, key), Figures())) for day in dates]
    seen = {c for (_, c) in table if c is not ALL}
    catalogs = list(Catalog.objects.order_by("name"))
    per_catalog = [(c, feedback_totals(table, c.pk)) for c in catalogs if c.pk in seen]
    charts = [
        (
            title,
            share_chart(title=title, points=[(f"{d:%d %b}", getattr(f, name)) for d, f in per_day]),
        )
        for name, title in CHARTS
    ]
    return FeedbackReport(
        days=days,
        since=since,
        until=until,
        catalog=catalog,
        catalogs=catalogs,
        per_day=list(reversed(per_day)),
        per_catalog=per_catalog,
        total=feedback_totals(table, key),
        charts=charts,
    )
