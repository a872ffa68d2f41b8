"""The costs page: totals per day and per model from the model-call ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from analysis.ledger import model_call_record
from tests.analysis.curation_support import client_for, make_curator

pytestmark = pytest.mark.django_db

COSTS = "/admin/analysis/modelcall/costs/"
VISION = "vision-90b"
SMALL = "vision-11b"


@pytest.fixture
def ledger(settings):
    """Calls over two days and two priced models, and one call older than the week."""
    settings.SWATCH_PROVIDERS = {
        **settings.SWATCH_PROVIDERS,
        "MODEL_PRICES": f"{VISION}=2.00/4.00,{SMALL}=0.50/0.50",
    }
    today = timezone.now().replace(hour=0, minute=30, second=0, microsecond=0)
    yesterday = today - dt.timedelta(days=1)
    calls = [
        # (when, model, latency, prompt, completion, error)
        (today, VISION, 1000, 1000, 500, None),
        (today, VISION, 3000, 2000, 1000, None),
        (today, VISION, 9000, 0, 0, "timeout"),
        (yesterday, VISION, 2000, 1500, 500, None),
        (yesterday, SMALL, 400, 1000, 1000, None),
        (yesterday, SMALL, 0, 0, 0, "circuit_open"),
        (today - dt.timedelta(days=20), VISION, 5000, 10_000, 10_000, None),
    ]
    for when, model, latency, prompt, completion, error in calls:
        model_call_record(
            provider="openai",
            model=model,
            purpose="describe",
            started_at=when,
            latency_ms=latency,
            prompt_tokens=prompt,
            completion_tokens=completion,
            error_code=error,
        )
    return today, yesterday


def test_costs_page_totals_match_the_ledger_rows(ledger, admin_client):
    today, yesterday = ledger
    response = admin_client.get(COSTS, {"days": "7"})
    assert response.status_code == 200
    report = response.context["report"]

    # the week: six calls (the 20-day-old one is outside), two of them errors
    assert (report.calls, report.errors) == (6, 2)
    assert report.error_rate == pytest.approx(2 / 6)
    assert (report.prompt_tokens, report.completion_tokens) == (5500, 3000)
    vision_cost = (Decimal(4500) * 2 + Decimal(2000) * 4) / 1_000_000
    small_cost = (Decimal(1000) * Decimal("0.5") + Decimal(1000) * Decimal("0.5")) / 1_000_000
    assert report.cost_usd == vision_cost + small_cost

    per_model = {row["model"]: row for row in report.per_model}
    assert per_model[VISION]["calls"] == 4
    assert per_model[VISION]["errors"] == 1
    assert per_model[VISION]["error_percent"] == 25.0
    assert per_model[VISION]["p50_latency_ms"] == 2500.0  # of 1000, 2000, 3000, 9000
    assert per_model[SMALL]["p50_latency_ms"] == 400.0  # the skipped call reached no model
    assert per_model[SMALL]["cost_usd"] == small_cost

    per_day = {(row["day"], row["model"]): row for row in report.per_day}
    assert set(per_day) == {
        (today.date(), VISION),
        (yesterday.date(), VISION),
        (yesterday.date(), SMALL),
    }
    assert per_day[(today.date(), VISION)]["calls"] == 3
    assert per_day[(today.date(), VISION)]["prompt_tokens"] == 3000
    assert per_day[(today.date(), VISION)]["avg_latency_ms"] == pytest.approx(13000 / 3, abs=0.1)
    assert [row["day"] for row in report.per_day][0] == today.date()  # newest first

    # and the page shows them
    html = response.content.decode()
    assert '<td data-key="calls">6</td>' in html
    assert '<td data-key="error_rate">33.3 %</td>' in html
    assert f'<td data-key="cost_usd">{report.cost_usd:.4f}</td>' in html
    assert today.strftime("%Y-%m-%d") in html
    assert yesterday.strftime("%Y-%m-%d") in html


def test_a_longer_period_includes_older_calls(ledger, admin_client):
    report = admin_client.get(COSTS, {"days": "30"}).context["report"]
    assert report.calls == 7
    assert report.prompt_tokens == 15_500


def test_a_bad_period_is_a_400_with_a_message(ledger, admin_client):
    for bad in ("abc", "0", "9999"):
        response = admin_client.get(COSTS, {"days": bad})
        assert response.status_code == 400
        assert "must be a whole number from 1 to 366" in response.content.decode()
        assert response.context["report"].days == 7


def test_curators_see_costs_and_the_ledger_is_read_only(ledger):
    client = client_for(make_curator())
    assert client.get(COSTS).status_code == 200
    assert client.get("/admin/analysis/modelcall/").status_code == 200
    assert client.get("/admin/analysis/modelcall/add/").status_code == 403
