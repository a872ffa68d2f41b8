"""The business figures, computed from stored searches and feedback, per UTC day and catalog.

A search belongs to the day it ran and to its catalog (`SearchRecord.catalog`); its feedback
counts for that search, whenever it came. Of the searches that listed results:
- accuracy: the share with a positive vote or a click in the top 5;
- MRR: the mean over searches with a click of 1 / the best (smallest) position clicked;
- conversion: the share followed by a sample request;
and satisfaction is the share of positive votes among the votes (one per voter and result);
the zero-result rate is the share of all searches that listed nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Exists, FloatField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Cast, TruncDate

from search.feedback.models import FeedbackEvent, FeedbackKind, SearchRecord

TOP = 5
ALL = None  # the catalog key of the figures over every catalog


@dataclass
class Figures:
    searches: int = 0
    answered: int = 0  # searches that listed results
    zero_results: int = 0
    accurate: int = 0
    clicked: int = 0
    reciprocal_ranks: float = 0.0
    converted: int = 0
    good: int = 0
    bad: int = 0

    def add(self, other: Figures) -> None:
        for name in (
            "searches", "answered", "zero_results", "accurate", "clicked", "reciprocal_ranks",
            "converted", "good", "bad",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @staticmethod
    def _share(part: float, whole: float) -> float | None:
        return part / whole if whole else None

    @property
    def accuracy(self) -> float | None:
        return self._share(self.accurate, self.answered)

    @property
    def mrr(self) -> float | None:
        return self._share(self.reciprocal_ranks, self.clicked)

    @property
    def satisfaction(self) -> float | None:
        return self._share(self.good, self.good + self.bad)

    @property
    def conversion_rate(self) -> float | None:
        return self._share(self.converted, self.answered)

    @property
    def zero_result_rate(self) -> float | None:
        return self._share(self.zero_results, self.searches)

    @property
    def cells(self) -> list[tuple[str, str, str]]:
        """(figure, exact value, shown text) of each rate, for the dashboard's tables."""
        out = []
        for name in RATES:
            value = getattr(self, name)
            exact = "" if value is None else f"{value:.6f}"
            shown = (
                "—"
                if value is None
                else (f"{value:.3f}" if name == "mrr" else f"{100 * value:.1f} %")
            )
            out.append((name, exact, shown))
        return out


RATES = ("accuracy", "mrr", "satisfaction", "conversion_rate", "zero_result_rate")


def _searches(since: dt.datetime, until: dt.datetime):
    events = FeedbackEvent.objects.filter(search=OuterRef("pk"))
    clicks = events.filter(kind=FeedbackKind.CLICK, position__isnull=False)
    return (
        SearchRecord.objects.filter(created_at__gte=since, created_at__lt=until)
        .annotate(
            day=TruncDate("created_at", tzinfo=dt.UTC),
            best_click=Subquery(clicks.order_by("position").values("position")[:1]),
            liked=Exists(events.filter(kind=FeedbackKind.GOOD)),
            top_click=Exists(clicks.filter(position__lte=TOP)),
            sampled=Exists(events.filter(kind=FeedbackKind.SAMPLE_REQUESTED)),
        )
        .values("day", "catalog_id")
        .annotate(
            searches=Count("pk"),
            answered=Count("pk", filter=Q(results__gt=0)),
            zero_results=Count("pk", filter=Q(results=0)),
            accurate=Count("pk", filter=Q(results__gt=0) & (Q(liked=True) | Q(top_click=True))),
            clicked=Count("pk", filter=Q(results__gt=0, best_click__isnull=False)),
            reciprocal_ranks=Sum(
                1.0 / Cast("best_click", FloatField()),
                filter=Q(results__gt=0, best_click__isnull=False),
            ),
            converted=Count("pk", filter=Q(results__gt=0, sampled=True)),
        )
        .order_by()
    )


def _votes(since: dt.datetime, until: dt.datetime):
    return (
        FeedbackEvent.objects.filter(
            search__created_at__gte=since,
            search__created_at__lt=until,
            kind__in=[FeedbackKind.GOOD, FeedbackKind.BAD],
        )
        .annotate(day=TruncDate("search__created_at", tzinfo=dt.UTC))
        .values("day", "search__catalog_id")
        .annotate(
            good=Count("pk", filter=Q(kind=FeedbackKind.GOOD)),
            bad=Count("pk", filter=Q(kind=FeedbackKind.BAD)),
        )
        .order_by()
    )


def feedback_figures(
    *, since: dt.datetime, until: dt.datetime
) -> dict[tuple[dt.date, int | None], Figures]:
    """(day, catalog id) → its figures, and (day, ALL) → the day's over every catalog (a
    search without a catalog counts there only)."""
    table: dict[tuple[dt.date, int | None], Figures] = defaultdict(Figures)
    for row in _searches(since, until):
        part = Figures(**{k: v or 0 for k, v in row.items() if k not in ("day", "catalog_id")})
        if row["catalog_id"] is not None:
            table[(row["day"], row["catalog_id"])].add(part)
        table[(row["day"], ALL)].add(part)
    for row in _votes(since, until):
        part = Figures(good=row["good"], bad=row["bad"])
        if row["search__catalog_id"] is not None:
            table[(row["day"], row["search__catalog_id"])].add(part)
        table[(row["day"], ALL)].add(part)
    return dict(table)


def feedback_totals(
    table: dict[tuple[dt.date, int | None], Figures], catalog_id: int | None = ALL
) -> Figures:
    """One catalog's (or every catalog's) figures over all the days of `table`."""
    total = Figures()
    for (_, catalog), figures in table.items():
        if catalog == catalog_id:
            total.add(figures)
    return total


PRIVATE_LABEL = "(private)"  # the private catalogs' figures, summed: no name or id of theirs


def feedback_recent(*, hours: int = 24, now: dt.datetime | None = None) -> dict[str, Figures]:
    """The figures of the searches of the last `hours`, by public catalog's name ("all": every
    one), and the private catalogs' together under PRIVATE_LABEL: `/metrics` reaches
    whoever monitors, who may not know a private catalog exists."""
    from django.utils import timezone

    from access.selectors import private_catalog_ids
    from materials.models import Catalog

    until = now or timezone.now()
    table = feedback_figures(since=until - dt.timedelta(hours=hours), until=until)
    ids = {catalog for (_, catalog) in table if catalog is not ALL}
    private = private_catalog_ids() & ids
    names = dict(Catalog.objects.filter(pk__in=ids - private).values_list("pk", "name"))
    out = {"all": feedback_totals(table, ALL)}
    for pk in sorted(ids):
        # (a catalog deleted meanwhile has no name: its figures stay in "all" only)
        label = PRIVATE_LABEL if pk in private else names.get(pk)
        if label is not None:
            out.setdefault(label, Figures()).add(feedback_totals(table, pk))
    return out
