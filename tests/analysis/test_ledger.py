"""The model-call ledger: what a call costs, and totals per day and per model."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from analysis.ledger import (
    model_call_cost,
    model_call_record,
    model_call_totals_per_day,
    model_call_totals_per_model,
)
from analysis.models import ModelCall

VISION = "meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo"
DAY1 = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
DAY2 = dt.datetime(2026, 3, 2, 23, 59, tzinfo=dt.UTC)


@pytest.fixture
def prices(settings):
    settings.SWATCH_PROVIDERS = {
        **settings.SWATCH_PROVIDERS,
        "MODEL_PRICES": f"{VISION}=1.20/1.20, cheap-model=0.10/0.40",
    }


def test_the_cost_follows_the_price_table(prices):
    assert model_call_cost(model=VISION, prompt_tokens=1874, completion_tokens=212) == Decimal(
        "0.002503"
    )
    assert model_call_cost(
        model="cheap-model", prompt_tokens=1_000_000, completion_tokens=500_000
    ) == Decimal("0.300000")
    assert model_call_cost(model="efficientnet-lite0", prompt_tokens=10, completion_tokens=10) == 0


def test_a_malformed_price_table_is_a_configuration_error(settings):
    settings.SWATCH_PROVIDERS = {**settings.SWATCH_PROVIDERS, "MODEL_PRICES": "gpt=cheap"}

    with pytest.raises(ImproperlyConfigured, match="SWATCH_MODEL_PRICES"):
        model_call_cost(model="gpt", prompt_tokens=1, completion_tokens=1)


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (None, "ok"),
        ("timeout", "timeout"),
        ("rate_limited", "rate_limited"),
        ("circuit_open", "circuit_open"),
        ("bad_response", "invalid_output"),
        ("unavailable", "error"),
        ("ValueError", "error"),
    ],
)
def test_a_record_keeps_the_outcome_of_its_error_code(db, prices, code, outcome):
    call = model_call_record(
        provider="openai",
        model=VISION,
        purpose="describe",
        started_at=DAY1,
        latency_ms=1234,
        error_code=code,
        prompt_tokens=1000,
        completion_tokens=100,
        image_sha256="ab" * 32,
    )

    call.refresh_from_db()
    assert call.outcome == outcome
    assert call.error_code == (code or "")
    assert call.cost_usd == Decimal("0.001320")
    assert call.image_sha256 == "ab" * 32


def _record(started_at, latency_ms, *, model=VISION, code=None, tokens=(0, 0)):
    return model_call_record(
        provider="openai" if model == VISION else "offline-image",
        model=model,
        purpose="describe" if model == VISION else "embed_image",
        started_at=started_at,
        latency_ms=latency_ms,
        error_code=code,
        prompt_tokens=tokens[0],
        completion_tokens=tokens[1],
    )


@pytest.fixture
def calls(db, prices):
    # day 1, vision: 4 calls, one timeout, one skipped by the open circuit
    _record(DAY1, 100, tokens=(1000, 100))
    _record(DAY1 + dt.timedelta(hours=1), 300, tokens=(2000, 200))
    _record(DAY1 + dt.timedelta(hours=2), 30_000, code="timeout")
    _record(DAY1 + dt.timedelta(hours=3), 0, code="circuit_open")
    # day 1, the offline embedder: 2 calls
    _record(DAY1, 40, model="efficientnet-lite0")
    _record(DAY1, 60, model="efficientnet-lite0")
    # day 2, vision: 1 call
    _record(DAY2, 500, tokens=(1500, 150))
    return ModelCall.objects.count()


def test_totals_per_day_and_model(calls):
    rows = model_call_totals_per_day()

    assert [(r["day"], r["model"]) for r in rows] == [
        (dt.date(2026, 3, 1), "efficientnet-lite0"),
        (dt.date(2026, 3, 1), VISION),
        (dt.date(2026, 3, 2), VISION),
    ]
    embed, vision1, vision2 = rows
    assert embed["calls"] == 2
    assert embed["errors"] == 0
    assert embed["avg_latency_ms"] == 50.0
    assert embed["cost_usd"] == 0
    assert vision1["calls"] == 4
    assert vision1["errors"] == 2
    assert vision1["error_rate"] == 0.5
    assert vision1["prompt_tokens"] == 3000
    assert vision1["completion_tokens"] == 300
    assert vision1["cost_usd"] == Decimal("0.003960")
    # latency over the calls that reached the model (100, 300, 30000): the skip is left out
    assert vision1["p50_latency_ms"] == 300.0
    assert vision1["avg_latency_ms"] == round((100 + 300 + 30_000) / 3, 1)
    assert vision2["calls"] == 1
    assert vision2["p50_latency_ms"] == 500.0


def test_totals_per_model_over_a_period(calls):
    rows = model_call_totals_per_model(since=DAY1, until=DAY1 + dt.timedelta(days=1))

    by_model = {r["model"]: r for r in rows}
    assert set(by_model) == {VISION, "efficientnet-lite0"}
    assert by_model[VISION]["calls"] == 4  # day 2 is outside the period
    assert by_model[VISION]["p95_latency_ms"] == pytest.approx(300 + 0.9 * (30_000 - 300))
    everything = {r["model"]: r for r in model_call_totals_per_model()}
    assert everything[VISION]["calls"] == 5
    assert sum(r["calls"] for r in everything.values()) == calls
