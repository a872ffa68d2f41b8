"""Where the limits and budgets are seen: `/healthz` and the admin's costs page (each
provider's use of its windows, the money budgets, a server-rendered chart of spend per day
against the daily budget, and the notice at 80 %)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from analysis.limits.outbound import outbound_reserve
from analysis.models import ModelCall
from tests.analysis.limits_support import set_limits

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_cache")]
MODEL = "meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo"


@pytest.fixture
def used(settings):
    set_limits(settings, "openai", requests=60, tokens=1_000_000)
    settings.SWATCH_LIMITS = {**settings.SWATCH_LIMITS, "BUDGET_USD_DAY": 2.0}
    for _ in range(15):
        outbound_reserve("openai", tokens=2000)
    now = timezone.now()
    for days_ago, usd in ((0, "1.70"), (2, "2.50")):
        ModelCall.objects.create(
            provider="openai", model=MODEL, purpose="describe", outcome="ok",
            started_at=now - dt.timedelta(days=days_ago), cost_usd=Decimal(usd),
        )  # fmt: skip


def test_healthz_shows_each_providers_use_of_its_limits_and_the_budgets(client, used):
    body = client.get("/healthz").json()
    windows = {w["window"]: w for w in body["model_limits"]["providers"]["openai"]}
    assert (windows["requests"]["used"], windows["requests"]["limit"]) == (15, 60)
    assert windows["tokens"]["used"] == 30_000
    assert windows["requests"]["share"] == 0.25
    [day] = body["model_limits"]["budgets"]
    assert (day["period"], day["spent_usd"], day["state"]) == ("day", 1.7, "warning")


def test_the_costs_page_shows_limits_budgets_and_a_chart_of_spend_per_day(admin_client, used):
    page = admin_client.get("/admin/analysis/modelcall/costs/").content.decode()
    # the limits and the budget, with the notice of a budget past 80 %
    assert re.search(r'data-window="requests">.*?<td data-key="used">15</td>', page, re.S)
    assert re.search(r'data-period="day" class="budget-warning">', page)
    assert "model budget is at 85 %" in page
    # a bar per day of the period, the day over the budget marked, and the budget's line
    chart = re.search(r'<svg id="spend-chart".*?</svg>', page, re.S).group(0)
    assert len(re.findall(r'<rect class="bar', chart)) == 7
    assert len(re.findall(r'<rect class="bar over"', chart)) == 1
    assert 'id="budget-line"' in chart
    # server-rendered: no script and nothing fetched from elsewhere
    assert "<script" not in chart
    assert "http" not in chart.replace("http://www.w3.org", "")
