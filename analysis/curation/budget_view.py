"""What the admin's costs page and `/healthz` show of the limits and budgets: each provider's
use of its windows, the money budgets, and the spend per day against the daily budget as a
server-rendered bar chart (SVG geometry computed here; no script, no CDN)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import DatabaseError

from analysis.budget import budget_use
from analysis.limits.outbound import outbound_use
from config.errors.outages import CACHE_ERRORS

logger = logging.getLogger("swatch.budget")

CHART_WIDTH, CHART_HEIGHT, CHART_TOP = 640, 160, 12


def limits_and_budgets() -> dict[str, Any]:
    """Each limited provider's windows (limit, used, share) and each money budget's period,
    spend and state; an `error` instead when the counters cannot be read."""
    try:
        return {
            "providers": outbound_use(),
            "budgets": [use.as_dict() for use in budget_use()],
            "warn_share": float(settings.SWATCH_LIMITS["BUDGET_WARN_SHARE"]),
        }
    except (DatabaseError, *CACHE_ERRORS) as exc:
        logger.warning("limits and budgets unreadable: %s", exc)
        return {"providers": {}, "budgets": [], "error": type(exc).__name__}


def spend_chart(per_day: list[dict[str, Any]], *, since: dt.datetime, days: int) -> dict:
    """Bars of the estimated spend per UTC day (every day of the period, oldest first) and the
    daily budget's line, scaled to the larger of the two."""
    spend: dict[dt.date, Decimal] = defaultdict(Decimal)
    for row in per_day:
        spend[row["day"]] += row["cost_usd"] or Decimal(0)
    budget = settings.SWATCH_LIMITS["BUDGET_USD_DAY"]
    first = since.date()
    values = [
        (first + dt.timedelta(days=i), float(spend[first + dt.timedelta(days=i)]))
        for i in range(days)
    ]
    top = max([v for _, v in values] + [float(budget or 0), 1e-6])
    plot = CHART_HEIGHT - CHART_TOP
    step = CHART_WIDTH / max(len(values), 1)
    bars = []
    for i, (day, value) in enumerate(values):
        height = round(plot * value / top, 1)
        over = budget is not None and value >= float(budget)
        bars.append(
            {"day": day, "usd": value, "x": round(i * step + step * 0.1, 1),
             "y": round(CHART_HEIGHT - height, 1), "width": round(step * 0.8, 1),
             "height": height, "over": over}
        )  # fmt: skip
    line = None if budget is None else round(CHART_HEIGHT - plot * float(budget) / top, 1)
    return {
        "bars": bars, "budget": budget, "budget_y": line, "width": CHART_WIDTH,
        "height": CHART_HEIGHT, "top_usd": top,
    }  # fmt: skip
