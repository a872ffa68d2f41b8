"""Money budgets from the ledger's prices: a warning at 80 % (log, mail to the admins, once),
the model not called at 100 % — the offline provider answers until the period turns."""

from __future__ import annotations

import datetime as dt
import io
import logging
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from PIL import Image

from analysis.budget import budget_use
from analysis.ingest import analysis_run_batch
from analysis.limits.clock import limits_clock
from analysis.models import ModelCall
from tests.analysis.pipeline_support import pending_analyses
from tests.analysis.test_limits_pipeline import CHAT, PROVIDERS, _images, _png
from tests.analysis.test_limits_pipeline import fake as fake  # noqa: PLC0414 - a fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_cache")]
MODEL = "meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo"


@pytest.fixture
def clock():
    """The real time: the ledger stamps its rows with it."""
    with limits_clock(lambda: timezone.now().timestamp()) as real:
        yield real


def _spent(usd: str, *, at: dt.datetime | None = None) -> None:
    ModelCall.objects.create(
        provider="openai", model=MODEL, purpose="describe", started_at=at or timezone.now(),
        cost_usd=Decimal(usd), outcome="ok", prompt_tokens=1, completion_tokens=1,
    )  # fmt: skip


def _budget(settings, *, day=None, month=None) -> None:
    settings.SWATCH_LIMITS = {
        **settings.SWATCH_LIMITS,
        "BUDGET_USD_DAY": day,
        "BUDGET_USD_MONTH": month,
    }
    settings.ADMINS = [("Ops", "ops@example.com")]


def _image() -> Image.Image:
    return Image.open(io.BytesIO(_png(7))).convert("RGB")


def test_warning_at_80_percent_then_offline_at_100_until_the_day_turns(fake, settings, caplog):
    _budget(settings, day=1.0)
    describer = PROVIDERS[-1].describer
    _spent("0.85")
    # when a call is made at 85 % of the day's budget
    with caplog.at_level(logging.WARNING, logger="swatch.budget"):
        first = describer.describe(_image())
        describer.describe(_image())
    # then the model answers, and the admins are warned once
    assert first.source == "model"
    assert len(fake.requests_to(CHAT)) == 2
    assert [m.subject for m in mail.outbox] == ["[Django] Model budget at 85 % of the day"]
    assert sum("model budget" in r.getMessage() for r in caplog.records) == 1
    # when the day's spend reaches the budget
    _spent("0.15")
    stopped = describer.describe(_image())
    # then the model is not called: the offline provider answers, and says why
    assert (stopped.source, stopped.fallback) == ("offline", "budget")
    assert len(fake.requests_to(CHAT)) == 2
    refused = ModelCall.objects.filter(outcome="limited").get()
    assert (refused.error_code, refused.cost_usd) == ("budget", 0)
    assert [u.state for u in budget_use()] == ["stopped"]
    # when the day turns, the model is called again
    tomorrow = timezone.now() + dt.timedelta(days=1)
    with limits_clock(lambda: tomorrow.timestamp()):
        assert describer.describe(_image()).source == "model"
    assert len(fake.requests_to(CHAT)) == 3


@pytest.mark.django_db(transaction=True)  # the pipeline's threads read the ledger too
def test_the_month_budget_stops_background_analyses_with_offline_answers(fake, settings):
    _budget(settings, day=100.0, month=5.0)
    _spent("5.00", at=timezone.now().replace(day=1, hour=0, minute=0, second=1))
    ids = pending_analyses(_images(2))
    # when analyses run with the month's budget spent
    summary = analysis_run_batch(analysis_ids=ids, batch_size=1)
    # then they complete from the offline provider, not deferred, without a model call
    assert summary.completed + summary.needs_review == 2
    assert summary.deferred == 0
    assert not fake.requests_to(CHAT)
    assert {u.period: u.state for u in budget_use()} == {"day": "ok", "month": "stopped"}
