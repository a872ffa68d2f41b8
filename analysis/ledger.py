"""The model-call ledger: record every provider call, and read totals for the admin.

Every call of a provider leaves one `ModelCall` row — successful, failed, timed out, rate
limited, skipped by an open circuit or rejected for invalid output — with its latency, tokens
and an estimated cost from the per-model price table (`SWATCH_MODEL_PRICES`, USD per million
input/output tokens). Rows are written in autocommit, outside the pipeline's transaction, so
a failed analysis still shows what it cost.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Aggregate, Avg, Count, FloatField, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from analysis.metrics import MODEL_CALL_SECONDS, MODEL_CALLS, MODEL_COST, MODEL_TOKENS
from analysis.models import ModelCall, ModelCallOutcome

_MILLION = Decimal(1_000_000)

# ProviderError.code → ledger outcome.
OUTCOME_OF_CODE = {
    "timeout": ModelCallOutcome.TIMEOUT,
    "rate_limited": ModelCallOutcome.RATE_LIMITED,
    "circuit_open": ModelCallOutcome.CIRCUIT_OPEN,
    "bad_response": ModelCallOutcome.INVALID_OUTPUT,
    "over_limit": ModelCallOutcome.LIMITED,
    "budget": ModelCallOutcome.LIMITED,
}
NOT_SENT = (ModelCallOutcome.CIRCUIT_OPEN, ModelCallOutcome.LIMITED)
COUNTED_AS_FINE = (ModelCallOutcome.OK, ModelCallOutcome.LIMITED)  # a limit kept is no error


class Percentile(Aggregate):
    """PostgreSQL `percentile_cont(f) WITHIN GROUP (ORDER BY expr)`."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, *, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


@lru_cache(maxsize=8)
def _parse_prices(spec: str) -> dict[str, tuple[Decimal, Decimal]]:
    prices: dict[str, tuple[Decimal, Decimal]] = {}
    for entry in (e.strip() for e in spec.split(",")):
        if not entry:
            continue
        model, sep, values = entry.rpartition("=")
        parts = values.split("/")
        try:
            if not sep or not model or len(parts) != 2:
                raise InvalidOperation
            prices[model.strip()] = (Decimal(parts[0]), Decimal(parts[1]))
        except InvalidOperation as exc:
            raise ImproperlyConfigured(
                f"SWATCH_MODEL_PRICES: {entry!r} is not `model=input/output` "
                "(USD per million tokens)"
            ) from exc
    return prices


def model_prices() -> dict[str, tuple[Decimal, Decimal]]:
    """USD per million (input, output) tokens, by model name."""
    return _parse_prices(settings.SWATCH_PROVIDERS["MODEL_PRICES"])


def model_call_cost(*, model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
    price_in, price_out = model_prices().get(model, (Decimal(0), Decimal(0)))
    cost = (price_in * prompt_tokens + price_out * completion_tokens) / _MILLION
    return cost.quantize(Decimal("0.000001"))


def model_call_outcome(*, error_code: str | None) -> str:
    if not error_code:
        return ModelCallOutcome.OK
    return OUTCOME_OF_CODE.get(error_code, ModelCallOutcome.ERROR)


def _model_call_count(
    *,
    provider: str,
    model: str,
    purpose: str,
    outcome: str,
    latency_ms: int,
    tokens: tuple[int, int],
    cost: Decimal,
) -> None:
    MODEL_CALLS.labels(provider=provider, purpose=purpose, outcome=outcome).inc()
    if outcome not in NOT_SENT:
        MODEL_CALL_SECONDS.labels(provider=provider, purpose=purpose, outcome=outcome).observe(
            max(latency_ms, 0) / 1000
        )
    for kind, count in zip(("prompt", "completion"), tokens, strict=True):
        if count > 0:
            MODEL_TOKENS.labels(provider=provider, model=model, kind=kind).inc(count)
    if cost > 0:
        MODEL_COST.labels(provider=provider, model=model).inc(float(cost))


def model_budget_check(provider: str, *, model: str) -> None:
    """Refuse a call of a paid model over its money budget (`analysis.budget`)."""
    from analysis.budget import budget_check  # it reads this module's prices

    budget_check(provider, model=model)


def model_call_record(
    *,
    provider: str,
    model: str,
    purpose: str,
    started_at: dt.datetime,
    latency_ms: int,
    error_code: str | None = None,
    error_message: str = "",
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    items: int = 1,
    image_sha256: str = "",
    depth: str = "",
) -> ModelCall:
    """Write one ledger row (and count the call in the metrics); the outcome follows from the
    error code (none: ok)."""
    outcome = model_call_outcome(error_code=error_code)
    cost = model_call_cost(
        model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
    )
    _model_call_count(
        provider=provider,
        model=model,
        purpose=purpose,
        outcome=outcome,
        latency_ms=latency_ms,
        tokens=(prompt_tokens, completion_tokens),
        cost=cost,
    )
    return ModelCall.objects.create(
        provider=provider[:50],
        model=model[:200],
        purpose=purpose,
        started_at=started_at,
        latency_ms=max(int(latency_ms), 0),
        items=max(int(items), 0),
        prompt_tokens=max(int(prompt_tokens), 0),
        completion_tokens=max(int(completion_tokens), 0),
        cost_usd=cost,
        outcome=outcome,
        error_code=(error_code or "")[:50],
        error_message=error_message[:300],
        image_sha256=image_sha256[:64],
        depth=depth[:20],
    )


def _calls(*, since: dt.datetime | None, until: dt.datetime | None) -> QuerySet[ModelCall]:
    calls = ModelCall.objects.all()
    if since is not None:
        calls = calls.filter(started_at__gte=since)
    if until is not None:
        calls = calls.filter(started_at__lt=until)
    return calls


def _totals(calls: QuerySet[ModelCall], *group: str) -> list[dict[str, Any]]:
    # Skipped calls (open circuit, over a limit) reached no model: counted, not in latencies.
    reached = ~Q(outcome__in=NOT_SENT)
    rows = (
        calls.values(*group)
        .annotate(
            calls=Count("id"),
            errors=Count("id", filter=~Q(outcome__in=COUNTED_AS_FINE)),
            prompt_tokens=Sum("prompt_tokens"),
            completion_tokens=Sum("completion_tokens"),
            cost_usd=Sum("cost_usd"),
            avg_latency_ms=Avg("latency_ms", filter=reached),
            p50_latency_ms=Percentile("latency_ms", fraction=0.5, filter=reached),
            p95_latency_ms=Percentile("latency_ms", fraction=0.95, filter=reached),
        )
        .order_by(*group)
    )
    totals = []
    for row in rows:
        row["error_rate"] = row["errors"] / row["calls"] if row["calls"] else 0.0
        for key in ("avg_latency_ms", "p50_latency_ms", "p95_latency_ms"):
            row[key] = round(row[key], 1) if row[key] is not None else None
        totals.append(row)
    return totals


def model_call_totals_per_day(
    *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Per UTC day and model: calls, errors, error_rate, prompt/completion tokens, cost_usd,
    avg/p50/p95 latency (ms), oldest day first."""
    calls = _calls(since=since, until=until).annotate(day=TruncDate("started_at", tzinfo=dt.UTC))
    return _totals(calls, "day", "provider", "model")


def model_call_totals_per_model(
    *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """The same figures per model over the whole period (default: everything)."""
    return _totals(_calls(since=since, until=until), "provider", "model")


def model_call_recent_window(*, days: int = 7) -> tuple[dt.datetime, dt.datetime]:
    """The last `days` whole UTC days up to now, for the admin's default view."""
    now = timezone.now()
    start = (now - dt.timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, now
