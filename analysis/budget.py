"""Money budgets of the model APIs, per UTC day and calendar month, from the ledger's prices.

`SWATCH_MODEL_BUDGET_USD_DAY` / `_MONTH`: what the paid models may cost. Before each request to
a model with a price, `budget_check` sums the ledger's estimated costs of the period: at
`SWATCH_MODEL_BUDGET_WARN_SHARE` (80 %) it warns once per period (log, `mail_admins` when
ADMINS are set; the admin's costs page and `/healthz` show it), at 100 % it refuses the request
(`BudgetExhausted`): the chains' offline providers answer until the period turns.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.mail import mail_admins
from django.db.models import Sum

from analysis.ledger import model_prices
from analysis.limits.clock import limits_now
from analysis.models import ModelCall
from analysis.providers.protocols import ProviderError

logger = logging.getLogger("swatch.budget")


class BudgetExhausted(ProviderError):
    def __init__(self, provider: str, use: BudgetUse) -> None:
        super().__init__(
            f"{provider}: the {use.period}'s model budget of ${use.limit_usd:.2f} is spent "
            f"(${use.spent_usd:.2f}): not sent, offline until {use.resets_at:%Y-%m-%d %H:%M} UTC",
            retryable=True,
            code="budget",
        )
        self.use = use


@dataclass(frozen=True)
class BudgetUse:
    period: str  # day | month
    limit_usd: float
    spent_usd: float
    starts_at: dt.datetime
    resets_at: dt.datetime

    @property
    def share(self) -> float:
        return self.spent_usd / self.limit_usd if self.limit_usd > 0 else 1.0

    @property
    def state(self) -> str:
        if self.share >= 1.0:
            return "stopped"
        return "warning" if self.share >= warn_share() else "ok"

    def as_dict(self) -> dict:
        return {
            "period": self.period,
            "limit_usd": self.limit_usd,
            "spent_usd": round(self.spent_usd, 6),
            "share": round(self.share, 4),
            "state": self.state,
            "resets_at": self.resets_at.isoformat(),
        }


def warn_share() -> float:
    return float(settings.SWATCH_LIMITS["BUDGET_WARN_SHARE"])


def _periods(now: dt.datetime) -> dict[str, tuple[dt.datetime, dt.datetime]]:
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    next_month = (month + dt.timedelta(days=32)).replace(day=1)
    return {"day": (day, day + dt.timedelta(days=1)), "month": (month, next_month)}


def budget_use(*, now: dt.datetime | None = None) -> list[BudgetUse]:
    """The configured budgets with what the ledger says was spent in their current period."""
    now = now or dt.datetime.fromtimestamp(limits_now(), tz=dt.UTC)
    limits = {
        "day": settings.SWATCH_LIMITS["BUDGET_USD_DAY"],
        "month": settings.SWATCH_LIMITS["BUDGET_USD_MONTH"],
    }
    uses = []
    for period, (starts, resets) in _periods(now).items():
        limit = limits[period]
        if limit is None:
            continue
        spent = ModelCall.objects.filter(started_at__gte=starts, started_at__lt=resets).aggregate(
            total=Sum("cost_usd")
        )["total"] or Decimal(0)
        uses.append(BudgetUse(period, float(limit), float(spent), starts, resets))
    return uses


def _is_paid(model: str) -> bool:
    return any(price > 0 for price in model_prices().get(model, ()))


def _warn_once(use: BudgetUse) -> None:
    key = f"budget:warned:{use.period}:{use.starts_at:%Y%m%d}"
    seconds = max(int((use.resets_at - use.starts_at).total_seconds()), 60)
    if not cache.add(key, 1, timeout=seconds):
        return  # this period's warning is out already
    message = (
        f"Swatch has spent ${use.spent_usd:.2f} of its ${use.limit_usd:.2f} model budget for "
        f"the {use.period} ({100 * use.share:.0f} %); at 100 % model calls stop and the offline "
        f"providers answer until {use.resets_at:%Y-%m-%d %H:%M} UTC."
    )
    logger.warning("model budget: %s", message)
    if settings.ADMINS:
        subject = f"Model budget at {100 * use.share:.0f} % of the {use.period}"
        mail_admins(subject, message, fail_silently=True)


def budget_check(provider: str, *, model: str) -> None:
    """Refuse a request to a paid model when a budget is spent; warn once at the threshold."""
    if not model or not _is_paid(model):
        return
    limits = settings.SWATCH_LIMITS
    if limits["BUDGET_USD_DAY"] is None and limits["BUDGET_USD_MONTH"] is None:
        return
    for use in budget_use():
        if use.state == "stopped":
            _warn_once(use)
            raise BudgetExhausted(provider, use)
        if use.state == "warning":
            _warn_once(use)
