"""Series read when `/metrics` is scraped: state every process shares (the queue, the circuit
breakers in the shared cache, the worker heartbeat, the analysis backlog) and the business
figures from stored feedback. One process's counters cannot say these; a read at scrape time
gives every web worker the same answer.

A part that cannot be read (the broker or the database is down) is left out of the scrape and
counted in `swatch_scrape_errors{part}`, so the rest still arrives.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger("swatch.metrics")

CIRCUIT_VALUE = {"closed": 0, "half_open": 1, "open": 2}


def queue_metrics() -> Iterator[Metric]:
    from config.observability.queue import queue_state

    state = queue_state()
    depth = GaugeMetricFamily(
        "swatch_queue_depth", "Tasks waiting in the task queue.", labels=["broker"]
    )
    depth.add_metric([state.broker], state.depth)
    age = GaugeMetricFamily(
        "swatch_queue_oldest_task_age_seconds",
        "Age of the oldest task waiting in the queue (0 when empty).",
        labels=["broker"],
    )
    age.add_metric([state.broker], state.oldest_age_seconds)
    yield from (depth, age)


def backlog_metrics() -> Iterator[Metric]:
    from analysis.selectors import analysis_backlog

    count, age = analysis_backlog()
    yield GaugeMetricFamily("swatch_analyses_pending", "Analyses waiting to run.", value=count)
    yield GaugeMetricFamily(
        "swatch_analysis_oldest_pending_age_seconds",
        "Age of the oldest pending analysis (0 when none).",
        value=age,
    )


def breaker_metrics() -> Iterator[Metric]:
    from analysis.selectors import provider_statuses

    state = GaugeMetricFamily(
        "swatch_circuit_state",
        "Circuit breaker of each model provider: 0 closed, 1 half-open, 2 open (-1 unknown).",
        labels=["capability", "provider"],
    )
    is_open = GaugeMetricFamily(
        "swatch_circuit_open",
        "1 while a provider's circuit is open (every process skips it), else 0.",
        labels=["capability", "provider"],
    )
    for status in provider_statuses():
        labels = [status["capability"], status["provider"] or "misconfigured"]
        state.add_metric(labels, CIRCUIT_VALUE.get(status["circuit"], -1))
        is_open.add_metric(labels, 1 if status["circuit"] == "open" else 0)
    yield from (state, is_open)


def heartbeat_metrics() -> Iterator[Metric]:
    from analysis.selectors import worker_heartbeat_age

    age = worker_heartbeat_age()
    yield GaugeMetricFamily(
        "swatch_worker_heartbeat_age_seconds",
        "Seconds since a task worker last showed it was alive (+Inf: never).",
        value=float("inf") if age is None else age,
    )


BUSINESS = (  # series, figure (search.feedback.figures), help
    (
        "swatch_feedback_accuracy",
        "accuracy",
        "Share of the searches with results that got a good-match vote or a top-5 click",
    ),
    (
        "swatch_feedback_mrr",
        "mrr",
        "Mean reciprocal rank of the best clicked result, over clicked searches",
    ),
    ("swatch_feedback_satisfaction", "satisfaction", "Share of good-match votes among the votes"),
    (
        "swatch_feedback_conversion_rate",
        "conversion_rate",
        "Share of the searches with results followed by a sample request",
    ),
    (
        "swatch_feedback_zero_result_rate",
        "zero_result_rate",
        "Share of the searches that listed nothing",
    ),
)
_business_cache: tuple[float, dict] | None = None


def _business_figures() -> dict:
    """The last 24 hours' figures by catalog, read at most every BUSINESS_CACHE_SECONDS."""
    global _business_cache
    from django.conf import settings

    from search.feedback.figures import feedback_recent

    ttl = settings.SWATCH_METRICS.get("BUSINESS_CACHE_SECONDS", 60)
    now = time.monotonic()
    if _business_cache is None or now - _business_cache[0] >= ttl:
        _business_cache = (now, feedback_recent(hours=24))
    return _business_cache[1]


def business_metrics() -> Iterator[Metric]:
    figures = _business_figures()
    searches = GaugeMetricFamily(
        "swatch_feedback_searches",
        "Searches recorded in the last 24 hours, by public catalog (`all`: every catalog; "
        "`(private)`: the private catalogs together).",
        labels=["catalog"],
    )
    for catalog, f in figures.items():
        searches.add_metric([catalog], f.searches)
    yield searches
    for series, name, text in BUSINESS:
        gauge = GaugeMetricFamily(
            series,
            f"{text}, searches of the last 24 hours, by catalog (absent: no data).",
            labels=["catalog"],
        )
        for catalog, f in figures.items():
            if (value := getattr(f, name)) is not None:
                gauge.add_metric([catalog], value)
        yield gauge


PARTS: dict[str, Callable[[], Iterable[Metric]]] = {
    "queue": queue_metrics,
    "backlog": backlog_metrics,
    "circuits": breaker_metrics,
    "heartbeat": heartbeat_metrics,
    "business": business_metrics,
}


class SharedStateCollector(Collector):
    """The parts above, each read on its own: one that fails does not spoil the scrape."""

    def __init__(self, parts: dict[str, Callable[[], Iterable[Metric]]] | None = None) -> None:
        self.parts = parts or PARTS

    def collect(self) -> Iterator[Metric]:
        errors = GaugeMetricFamily(
            "swatch_scrape_errors",
            "1 for each part of this scrape that could not be read (its series are missing).",
            labels=["part"],
        )
        for name, read in self.parts.items():
            try:
                metrics = list(read())
            except Exception:  # noqa: BLE001 - a part that fails is reported, never raised
                logger.warning("metrics: could not read %s", name, exc_info=True)
                errors.add_metric([name], 1)
                continue
            errors.add_metric([name], 0)
            yield from metrics
        yield errors

    def describe(self) -> list[Metric]:
        return []  # collected at scrape time only; never at registration
