"""Prometheus series of the search side: latency by phase, step and strategy, refinement,
answer outcomes (good match, no good match, zero results), rate-limit refusals and feedback.

The answer cache's hits and misses go to `swatch_cache_lookups_total{cache="search_answer"}`
(`analysis.metrics`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from prometheus_client import Counter, Histogram

SEARCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
REFINE_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160)

SEARCH_SECONDS = Histogram(
    "swatch_search_seconds",
    "Search latency in the service, by operation (search: a new one; read: an earlier query's "
    "answer read again, e.g. polled for its refinement), phase of the answer (fast, refined) "
    "and kind of query (image, text, material and their combinations such as image+text; "
    "`stored` for reads).",
    ["operation", "phase", "kind"],
    buckets=SEARCH_BUCKETS,
)
STRATEGY_SECONDS = Histogram(
    "swatch_search_strategy_seconds",
    "Time of one strategy's ranking (vector, semantic, properties), side by side with the others.",
    ["strategy"],
    buckets=SEARCH_BUCKETS,
)
REFINEMENT_SECONDS = Histogram(
    "swatch_search_refinement_seconds",
    "Background refinement of a query image (describe, embed the description, save), from "
    "submission to the saved state, by outcome (done, failed, expired).",
    ["outcome"],
    buckets=REFINE_BUCKETS,
)
ANSWERS = Counter(
    "swatch_search_answers",
    "Answers of new searches by phase and outcome (good_match; no_good_match: results listed "
    "but none good; zero_results: nothing listed).",
    ["phase", "outcome"],
)
RATE_LIMITED = Counter(
    "swatch_rate_limit_refusals",
    "Requests refused by a rate limit, by scope (search, feedback) and surface (api, page).",
    ["scope", "surface"],
)
FEEDBACK_EVENTS = Counter(
    "swatch_feedback_events",
    "Feedback stored, by kind (good, bad, click, sample_requested, saved, flag).",
    ["kind"],
)

T = TypeVar("T")


@contextmanager
def timed(histogram: Histogram, **labels: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        histogram.labels(**labels).observe(time.perf_counter() - start)


def timed_call(histogram: Histogram, call: Callable[[], T], **labels: str) -> Callable[[], T]:
    """`call`, observed into `histogram` whenever it runs (e.g. on another thread)."""

    def run() -> T:
        with timed(histogram, **labels):
            return call()

    return run


def timed_each(tasks: Mapping[str, Callable[[], T]]) -> dict[str, Callable[[], T]]:
    """Each strategy's task, observed into `swatch_search_strategy_seconds` under its name."""
    return {name: timed_call(STRATEGY_SECONDS, task, strategy=name) for name, task in tasks.items()}


def answer_outcome(*, results: int, no_good_match: bool) -> str:
    if not results:
        return "zero_results"
    return "no_good_match" if no_good_match else "good_match"


def query_kind(query: Any) -> str:
    """image, text, material, or their combination (image+text…) of a `SearchQuery`."""
    parts = [
        name
        for name, present in (
            ("image", query.image is not None),
            ("material", query.material_id is not None),
            ("text", bool((query.text or "").strip())),
        )
        if present
    ]
    return "+".join(parts) or "none"


def search_observed(function: Callable[..., Any]) -> Callable[..., Any]:
    """Times a search service call (`query=` → a new search; else a read of a stored one) and
    counts the outcome of new searches' answers."""

    @functools.wraps(function)
    def observed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        answer = function(*args, **kwargs)
        query = kwargs.get("query")
        operation, kind = ("search", query_kind(query)) if query is not None else ("read", "stored")
        SEARCH_SECONDS.labels(operation=operation, phase=answer.phase, kind=kind).observe(
            time.perf_counter() - start
        )
        if query is not None:
            outcome = answer_outcome(
                results=len(answer.results), no_good_match=answer.no_good_match
            )
            ANSWERS.labels(phase=answer.phase, outcome=outcome).inc()
        return answer

    return observed
