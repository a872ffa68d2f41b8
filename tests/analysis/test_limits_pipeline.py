"""The limits in the pipeline, against the local fake of Together AI's wire format, with a
clock the test moves: background analyses over a limit are deferred (rescheduled, never
failed, never lost or doubled), interactive descriptions are answered offline at once."""

from __future__ import annotations

import ast
import datetime as dt
import io

import numpy as np
import pytest
from django.core.management import call_command
from django_q.models import OrmQ, Schedule
from PIL import Image

from analysis.deferral import deferred_schedule_name
from analysis.http import provider_session
from analysis.ingest import analysis_run_batch
from analysis.limits.clock import ManualClock, limits_clock
from analysis.models import AnalysisStatus, ModelCall, VisualAnalysis
from analysis.pipeline import PipelineProviders
from analysis.providers.chains import FallbackDescriber
from analysis.providers.fallback import ProviderLink
from analysis.providers.openai_vision import OpenAIVisionDescriber
from analysis.tasks import analysis_task
from tests.analysis.limits_support import set_limits
from tests.analysis.pipeline_support import (
    HashingTextEmbedder,
    PixelStatsDescriber,
    RgbHistogramEmbedder,
    pending_analyses,
)
from tests.fakes.openai_server import FakeOpenAIServer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_cache")]
CHAT = "/v1/chat/completions"
PROVIDERS: list[PipelineProviders] = []


def limited_providers() -> PipelineProviders:
    """`SWATCH_PIPELINE_PROVIDERS` of these tests: the vision model over HTTP, then a
    stand-in for the offline analyser; small real embedders."""
    return PROVIDERS[-1]


def _chain(base_url: str) -> FallbackDescriber:
    vision = ProviderLink(
        name="openai",
        build=lambda: OpenAIVisionDescriber(
            base_url=base_url,
            model="meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo",
            session=provider_session("openai", timeout=(2.0, 20.0)),
        ),
        model_of=lambda p: p.model_id,
    )
    offline = ProviderLink(
        name="offline-analyser", build=PixelStatsDescriber, model_of=lambda p: p.model_id,
        offline=True,
    )  # fmt: skip
    return FallbackDescriber([vision, offline])


@pytest.fixture
def clock():
    manual = ManualClock()
    with limits_clock(manual):
        yield manual


@pytest.fixture
def fake(clock, settings):
    set_limits(settings, "openai", requests=60, tokens=1_000_000)
    settings.SWATCH = {**settings.SWATCH, "PIPELINE_PROVIDERS": f"{__name__}.limited_providers"}
    with FakeOpenAIServer(clock=clock) as server:
        PROVIDERS.append(
            PipelineProviders(
                _chain(server.base_url), RgbHistogramEmbedder(), HashingTextEmbedder()
            )
        )
        yield server
        PROVIDERS.pop()


def _png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, size=(40, 40, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _images(count: int):
    from materials.services import catalog_get_or_create, material_create_with_image

    catalog = catalog_get_or_create(name="limits")
    return [
        material_create_with_image(catalog=catalog, data=_png(i), name=f"m{i}", category="t").image
        for i in range(count)
    ]


@pytest.mark.django_db(transaction=True)  # the pipeline's threads write the ledger
def test_the_61st_background_analysis_in_a_minute_is_deferred_not_failed(fake, clock):
    ids = pending_analyses(_images(61))
    # when 61 analyses run in the same minute
    summary = analysis_run_batch(analysis_ids=ids, batch_size=1)
    # then 60 asked the model, the 61st did not and waits: pending, its attempt given back
    assert len(fake.requests_to(CHAT)) == 60
    assert (summary.completed + summary.needs_review, summary.deferred, summary.failed) == (
        60,
        1,
        0,
    )
    row = VisualAnalysis.objects.get(status=AnalysisStatus.PENDING)
    assert row.attempts == 0
    assert "over_limit" in row.error_reason
    # and its task is rescheduled with django-q2 for when the minute has room, once
    schedule = Schedule.objects.get(name=deferred_schedule_name(row.pk))
    assert (schedule.func, ast.literal_eval(schedule.args)) == (
        "analysis.tasks.analysis_task",
        (row.pk,),
    )
    wait = schedule.next_run.timestamp() - clock.now
    assert 60 <= wait <= 63
    # the ledger says why it was not sent, without cost
    limited = ModelCall.objects.get(outcome="limited")
    assert limited.error_code == "over_limit"
    assert limited.cost_usd == 0


def test_the_61st_interactive_description_is_answered_offline_at_once(fake):
    describer = PROVIDERS[-1].describer
    image = Image.open(io.BytesIO(_png(1))).convert("RGB")
    answers = [describer.describe(image) for _ in range(61)]
    assert len(fake.requests_to(CHAT)) == 60
    assert {(a.source, a.fallback) for a in answers[:60]} == {("model", "")}
    assert (answers[60].source, answers[60].fallback) == ("offline", "budget")


def _run_queued() -> int:
    ran = 0
    while OrmQ.objects.exists():
        for queued in OrmQ.objects.order_by("id"):
            queued.delete()
            task = queued.task
            assert task["func"] == "analysis.tasks.analysis_task"
            analysis_task(*task["args"], **task["kwargs"])
            ran += 1
    return ran


def _run_due_schedules(clock: ManualClock) -> int:
    """What django-q2's scheduler does with a ONCE schedule whose time has come: delete it
    and run its task — at the test clock's time, moved to the earliest schedule."""
    ours = Schedule.objects.filter(name__startswith="analysis ")
    earliest = ours.order_by("next_run").first()
    if earliest is None:
        return 0
    clock.set(earliest.next_run.timestamp())
    now = dt.datetime.fromtimestamp(clock.now, tz=dt.UTC)
    ran = 0
    for schedule in ours.filter(next_run__lte=now).order_by("next_run"):
        schedule.delete()
        analysis_task(*ast.literal_eval(schedule.args), **ast.literal_eval(schedule.kwargs or "{}"))
        ran += 1
    return ran


@pytest.mark.django_db(transaction=True)  # the pipeline's threads write the ledger
def test_an_import_of_200_images_under_60_rpm_completes_every_analysis(
    fake, clock, tmp_path, django_capture_on_commit_callbacks
):
    folder = tmp_path / "import" / "tiles"
    folder.mkdir(parents=True)
    for i in range(200):
        (folder / f"tile-{i:03}.png").write_bytes(_png(1000 + i))
    start = clock.now
    # when 200 images are imported: one analysis task each
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_catalog", str(tmp_path / "import"), "--catalog", "big",
                     stdout=io.StringIO(), stderr=io.StringIO())  # fmt: skip
    runs = _run_queued()
    while Schedule.objects.filter(name__endswith=" deferred").exists():
        runs += _run_due_schedules(clock)
        runs += _run_queued()
    # then every analysis completed, none failed, none asked twice
    rows = VisualAnalysis.objects.filter(image__catalog__name="big")
    assert rows.count() == 200
    assert set(rows.values_list("status", flat=True)) <= {"completed", "needs_review"}
    assert set(rows.values_list("attempts", flat=True)) == {1}
    sent = sorted(r.at for r in fake.requests_to(CHAT))
    assert len(sent) == 200
    # and never more than 60 requests in any minute
    most = max(sum(1 for t in sent if s <= t < s + 60) for s in sent)
    assert most <= 60
    # deferred, not busy: each deferral ran about once, and it took the time 60 rpm needs
    assert runs < 200 + 2 * 140
    assert 3 * 60 <= sent[-1] - start <= 5 * 60
