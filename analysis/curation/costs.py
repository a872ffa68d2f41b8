"""The costs report of the admin, read from the model-call ledger's selectors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from analysis.ledger import (
    model_call_recent_window,
    model_call_totals_per_day,
    model_call_totals_per_model,
)

MAX_DAYS = 366
DEFAULT_DAYS = 7


@dataclass(frozen=True)
class CostReport:
    days: int
    since: dt.datetime
    until: dt.datetime
    per_day: list[dict[str, Any]]
    per_model: list[dict[str, Any]]
    calls: int
    errors: int
    error_rate: float
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal

    @property
    def error_percent(self) -> float:
        return round(100 * self.error_rate, 1)


def _with_percent(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        row["error_percent"] = round(100 * row["error_rate"], 1)
    return rows


class CostReportError(ValueError):
    pass


def cost_report(*, days: int = DEFAULT_DAYS) -> CostReport:
    """Calls, tokens, estimated cost, error rate and latency per day and per model over the
    last `days` UTC days (today included), with the period's totals."""
    if not 1 <= days <= MAX_DAYS:
        raise CostReportError(f"days must be between 1 and {MAX_DAYS}, not {days}")
    since, until = model_call_recent_window(days=days)
    per_model = _with_percent(model_call_totals_per_model(since=since, until=until))
    calls = sum(row["calls"] for row in per_model)
    errors = sum(row["errors"] for row in per_model)
    return CostReport(
        days=days,
        since=since,
        until=until,
        # Newest day first: the page is read from the top.
        per_day=list(reversed(_with_percent(model_call_totals_per_day(since=since, until=until)))),
        per_model=per_model,
        calls=calls,
        errors=errors,
        error_rate=errors / calls if calls else 0.0,
        prompt_tokens=sum(row["prompt_tokens"] or 0 for row in per_model),
        completion_tokens=sum(row["completion_tokens"] or 0 for row in per_model),
        cost_usd=sum((row["cost_usd"] or Decimal(0) for row in per_model), Decimal(0)),
    )
