"""The admin's re-run actions take the analysis options of the API and the commands (vision,
clip, depth): the bulk actions through Django's intermediate page (nothing is queued until
the options are confirmed), the review page's button through its own fields. The options are
stamped on the analysis and its audit entry, go with the task, and reach the vision model
(the local fake of its wire format) or keep it out."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django_q.models import OrmQ

from analysis.ingest import analysis_run_batch
from analysis.models import AnalysisAuditEntry, ModelCall, VisualAnalysis
from tests.analysis.curation_support import run_queued_tasks
from tests.analysis.pipeline_support import pending_analyses
from tests.analysis.test_limits_pipeline import CHAT, _images
from tests.analysis.test_limits_pipeline import clock as clock  # noqa: PLC0414 - a fixture
from tests.analysis.test_limits_pipeline import fake as fake  # noqa: PLC0414 - a fixture

# The pipeline's threads write the ledger on their own connections: committed, then flushed.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_cache")]
ANALYSES = "/admin/analysis/visualanalysis/"


def _bulk(client, action: str, ids, **fields):
    return client.post(
        ANALYSES,
        {"action": action, ACTION_CHECKBOX_NAME: [str(pk) for pk in ids], **fields},
        follow=True,
    )


@pytest.fixture
def analysed(fake):
    """Two analyses the vision model (the fake) made at the default depth."""
    ids = pending_analyses(_images(2))
    analysis_run_batch(analysis_ids=ids, batch_size=1)
    assert [r.body["max_tokens"] for r in fake.requests_to(CHAT)] == [1200, 1200]
    assert set(VisualAnalysis.objects.values_list("depth", "source")) == {("detailed", "model")}
    return ids


def test_a_bulk_rerun_asks_for_the_options_first_then_queues_at_that_depth(
    fake, analysed, admin_client
):
    # when a curator picks "Re-run analysis…" for both
    page = _bulk(admin_client, "rerun_selected", analysed)
    # then a page of options, the defaults chosen, and nothing queued yet
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="rerun-options"' in html
    assert "2 analyses selected" in html
    assert re.search(r'<input [^>]*name="depth" value="detailed"[^>]* checked>', html)
    assert re.search(r'<input [^>]*name="vision" value="model"[^>]* checked>', html)
    assert not OrmQ.objects.exists()

    # when the curator chooses basic and confirms
    done = _bulk(admin_client, "rerun_selected", analysed, apply="Queue", depth="basic")
    # then back on the list, both queued with the options, stamped on the rows and the audit
    assert done.redirect_chain[-1][0].startswith(ANALYSES)
    assert "Queued 2 analyses (depth basic, vision model, CLIP)." in done.content.decode()
    tasks = list(OrmQ.objects.order_by("id"))
    assert [t.task["kwargs"]["analysis"] for t in tasks] == [
        {"vision": True, "clip": True, "depth": "basic"}
    ] * 2
    rows = VisualAnalysis.objects.filter(pk__in=analysed)
    assert {r.queue_options["analysis"]["depth"] for r in rows} == {"basic"}
    notes = AnalysisAuditEntry.objects.filter(action="rerun").values_list("note", flat=True)
    assert all("depth basic" in note for note in notes)
    assert len(notes) == 2

    # when the worker runs them: the vision model asked at basic depth, recorded everywhere
    run_queued_tasks()
    assert [r.body["max_tokens"] for r in fake.requests_to(CHAT)][2:] == [500, 500]
    assert "Depth: basic" in fake.requests_to(CHAT)[2].body["messages"][1]["content"][0]["text"]
    assert set(rows.values_list("depth", "source")) == {("basic", "model")}
    ledger = ModelCall.objects.filter(provider="openai", outcome="ok")
    assert sorted(ledger.values_list("depth", flat=True)) == ["basic"] * 2 + ["detailed"] * 2


def test_a_bulk_rerun_without_the_vision_model_makes_no_model_call(fake, analysed, admin_client):
    done = _bulk(
        admin_client, "rerun_overwriting_curated", analysed,
        apply="Queue", vision="offline", depth="comprehensive",
    )  # fmt: skip
    assert "depth comprehensive, no vision model, CLIP" in done.content.decode()
    run_queued_tasks()
    # then the offline analyser answered both, and the fake saw no new request
    assert len(fake.requests_to(CHAT)) == 2
    rows = VisualAnalysis.objects.filter(pk__in=analysed)
    assert set(rows.values_list("source", "status")) == {("offline", "completed")}
    assert ModelCall.objects.filter(provider="openai").count() == 2


def test_queue_again_takes_the_options_too(fake, admin_client):
    ids = pending_analyses(_images(1))
    page = _bulk(admin_client, "queue_again", ids)
    assert 'name="clip"' in page.content.decode()
    assert not OrmQ.objects.exists()
    _bulk(admin_client, "queue_again", ids, apply="Queue", vision="offline", clip="offline")
    [task] = OrmQ.objects.all()
    assert task.task["kwargs"]["analysis"] == {"vision": False, "clip": False, "depth": "detailed"}
    run_queued_tasks()
    assert not fake.requests_to(CHAT)
    assert VisualAnalysis.objects.get(pk=ids[0]).source == "offline"


def test_a_bad_option_is_shown_on_the_page_and_queues_nothing(fake, analysed, admin_client):
    page = _bulk(admin_client, "rerun_selected", analysed, apply="Queue", depth="deep")
    assert page.status_code == 200
    assert "Select a valid choice" in page.content.decode()
    assert not OrmQ.objects.exists()


def test_the_review_pages_rerun_button_carries_the_options(fake, analysed, admin_client):
    url = f"/admin/analysis/visualanalysis/{analysed[0]}/change/"
    page = admin_client.get(url).content.decode()
    assert 'name="rerun-depth"' in page
    assert 'name="rerun-vision"' in page
    response = admin_client.post(
        url, {"_action": "rerun", "rerun-depth": "comprehensive"}, follow=True
    )
    assert "depth comprehensive, vision model, CLIP" in response.content.decode()
    [task] = OrmQ.objects.all()
    assert task.task["kwargs"]["analysis"]["depth"] == "comprehensive"
    run_queued_tasks()
    assert fake.requests_to(CHAT)[-1].body["max_tokens"] == 2000
    row = VisualAnalysis.objects.get(pk=analysed[0])
    assert (row.depth, row.source) == ("comprehensive", "model")
    # and the review page says at which depth it was asked
    page = admin_client.get(url).content.decode()
    assert "last queued: depth comprehensive, vision model, CLIP" in page
