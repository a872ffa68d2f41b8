"""The business figures: the dashboard's and `/metrics`' values equal those computed here,
independently, from the stored searches and feedback events (random but seeded: many
combinations of votes, clicks and sample requests over days and catalogs)."""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from collections import defaultdict

import pytest
from django.test import Client
from django.utils import timezone

from access.privacy import catalog_privacy_set
from materials.models import Catalog
from search.feedback.models import FeedbackEvent, SearchRecord
from search.feedback.services import feedback_record
from tests.metrics_support import scrape

pytestmark = pytest.mark.django_db
KINDS = ["good", "bad", "click", "sample_requested", "saved"]


@pytest.fixture
def stored(sample_catalog):
    """Searches over four days and two catalogs (and some with none), each with random
    feedback from a few voters; returned with 'now'."""
    rng = random.Random(16)  # noqa: S311 - test data, not secrets
    materials = list(sample_catalog.values())
    catalogs = sorted({m.catalog for m in materials}, key=lambda c: c.pk)
    now = timezone.now()
    for n in range(60):
        hours = rng.choice([1, 5, 20, 30, 50, 80])
        shown = rng.sample(materials, k=rng.choice([0, 3, 5, 7]))
        record = SearchRecord.objects.create(
            query_id=uuid.uuid4().hex,
            query_hash=f"{n:064d}",
            kind="text",
            surface="api",
            catalog=rng.choice([*catalogs, None]),
            result_ids=[m.pk for m in shown],
            results=len(shown),
            created_at=now - dt.timedelta(hours=hours, minutes=rng.randrange(60)),
        )
        for _ in range(rng.randrange(6) if shown else 0):
            at = rng.randrange(len(shown))
            feedback_record(
                query_id=record.query_id,
                material_id=shown[at].pk,
                kind=rng.choice(KINDS),
                voter=f"user:{rng.randrange(3)}",
                position=at + 1 if rng.random() < 0.8 else rng.randrange(1, 12),
            )
    return now


def expected(records, events) -> dict:
    """The figures by the definitions, from plain rows."""
    by_search = defaultdict(list)
    for e in events:
        by_search[e.search_id].append(e)
    answered = [r for r in records if r.results > 0]
    accurate = rr = clicked = converted = 0
    for r in answered:
        mine = by_search[r.pk]
        clicks = [e.position for e in mine if e.kind == "click" and e.position is not None]
        if any(e.kind == "good" for e in mine) or any(p <= 5 for p in clicks):
            accurate += 1
        if clicks:
            clicked += 1
            rr += 1 / min(clicks)
        if any(e.kind == "sample_requested" for e in mine):
            converted += 1
    ids = {r.pk for r in records}
    good = sum(1 for e in events if e.search_id in ids and e.kind == "good")
    bad = sum(1 for e in events if e.search_id in ids and e.kind == "bad")

    def share(a, b):
        return a / b if b else None

    return {
        "searches": len(records),
        "accuracy": share(accurate, len(answered)),
        "mrr": share(rr, clicked),
        "satisfaction": share(good, good + bad),
        "conversion_rate": share(converted, len(answered)),
        "zero_result_rate": share(len(records) - len(answered), len(records)),
    }


def _close(shown: str, value) -> bool:
    return shown == "" if value is None else abs(float(shown) - value) < 1e-6


def table_rows(html: str, table: str, key: str) -> dict[str, dict[str, str]]:
    body = re.search(rf'<table id="{table}">(.*?)</table>', html, re.S).group(1)
    rows = {}
    for match in re.finditer(rf'<tr {key}="([^"]+)">(.*?)</tr>', body, re.S):
        cells = dict(re.findall(r'data-figure="(\w+)" data-value="([^"]*)"', match.group(2)))
        cells["searches"] = re.search(r'data-figure="searches">(\d+)<', match.group(2)).group(1)
        rows[match.group(1)] = cells
    return rows


def assert_same(cells: dict[str, str], figures: dict) -> None:
    assert int(cells["searches"]) == figures["searches"]
    for name in ("accuracy", "mrr", "satisfaction", "conversion_rate", "zero_result_rate"):
        assert _close(cells[name], figures[name]), (name, cells[name], figures[name])


def test_the_dashboard_shows_the_figures_of_the_stored_events(stored, admin_client):
    records, events = list(SearchRecord.objects.all()), list(FeedbackEvent.objects.all())
    assert {e.kind for e in events} == set(KINDS)
    page = admin_client.get("/admin/search/searchrecord/dashboard/", {"days": 7})
    assert page.status_code == 200
    html = page.content.decode()

    per_day = table_rows(html, "feedback-per-day", "data-day")
    days = defaultdict(list)
    for r in records:
        days[r.created_at.astimezone(dt.UTC).date().isoformat()].append(r)
    assert {d for d, cells in per_day.items() if cells["searches"] != "0"} == set(days)
    for day, rows in days.items():
        assert_same(per_day[day], expected(rows, events))
    per_catalog = table_rows(html, "feedback-per-catalog", "data-catalog")
    for catalog_id in {r.catalog_id for r in records} - {None}:
        rows = [r for r in records if r.catalog_id == catalog_id]
        assert_same(per_catalog[str(catalog_id)], expected(rows, events))
    head = re.search(r'<table id="feedback-totals">(.*?)</table>', html, re.S).group(1)
    totals = dict(re.findall(r'data-figure="(\w+)" data-value="([^"]*)"', head))
    totals["searches"] = str(len(records))
    assert_same(totals, expected(records, events))
    # the charts: inline SVG drawn on the server, one point per day with data, no script
    charts = re.search(r'<div class="charts">(.*?)</div>', html, re.S).group(1)
    assert charts.count('<svg class="chart"') == 5
    assert "<script" not in charts
    assert "http" not in charts
    accuracy_chart = charts.split("</svg>")[0]
    with_data = [d for d, c in per_day.items() if c["accuracy"]]
    assert accuracy_chart.count("<circle") == len(with_data)
    assert "<script" not in html.split("<h2>Per day</h2>")[1]


def test_one_catalogs_dashboard(stored, admin_client):
    records, events = list(SearchRecord.objects.all()), list(FeedbackEvent.objects.all())
    catalog_id = next(r.catalog_id for r in records if r.catalog_id)
    html = admin_client.get(
        "/admin/search/searchrecord/dashboard/", {"days": 7, "catalog": catalog_id}
    ).content.decode()

    per_day = table_rows(html, "feedback-per-day", "data-day")
    mine = [r for r in records if r.catalog_id == catalog_id]
    for day in {r.created_at.astimezone(dt.UTC).date().isoformat() for r in mine}:
        rows = [r for r in mine if r.created_at.astimezone(dt.UTC).date().isoformat() == day]
        assert_same(per_day[day], expected(rows, events))


def test_the_figures_as_metrics_are_those_of_the_last_24_hours(stored, settings):
    settings.SWATCH_METRICS = {
        **settings.SWATCH_METRICS,
        "TOKEN": "",
        "ALLOWED_IPS": ["127.0.0.1"],
        "BUSINESS_CACHE_SECONDS": 0,
    }
    records = [r for r in SearchRecord.objects.select_related("catalog")
               if r.created_at >= stored - dt.timedelta(hours=24)]  # fmt: skip
    events = list(FeedbackEvent.objects.all())

    metrics = scrape(Client())

    by_catalog = {"all": records}
    for r in records:
        if r.catalog:
            by_catalog.setdefault(r.catalog.name, []).append(r)
    for catalog, rows in by_catalog.items():
        figures = expected(rows, events)
        assert metrics.value("swatch_feedback_searches", catalog=catalog) == figures["searches"]
        for name in ("accuracy", "mrr", "satisfaction", "conversion_rate", "zero_result_rate"):
            if figures[name] is None:
                assert (f"swatch_feedback_{name}", frozenset({("catalog", catalog)})) not in (
                    metrics.samples
                )
            else:
                value = metrics.value(f"swatch_feedback_{name}", catalog=catalog)
                assert value == pytest.approx(figures[name]), (catalog, name)


def test_the_metrics_name_no_private_catalog_and_sum_them_in_one_bucket(stored, settings):
    # given searches of two catalogs, one of them private
    settings.SWATCH_METRICS = {
        **settings.SWATCH_METRICS,
        "TOKEN": "",
        "ALLOWED_IPS": ["127.0.0.1"],
        "BUSINESS_CACHE_SECONDS": 0,
    }
    records = [r for r in SearchRecord.objects.select_related("catalog")
               if r.created_at >= stored - dt.timedelta(hours=24)]  # fmt: skip
    secret = Catalog.objects.get(name="other")
    catalog_privacy_set(catalog=secret, private=True)
    events = list(FeedbackEvent.objects.all())

    metrics = scrape(Client())

    # then no label carries its name or id: its searches are in "(private)" and "all" only
    labels = {value for (_, ls) in metrics.samples for (_, value) in ls}
    assert "other" not in labels
    assert str(secret.pk) not in labels
    private = [r for r in records if r.catalog_id == secret.pk]
    public = [r for r in records if r.catalog and r.catalog_id != secret.pk]
    assert private
    assert public
    checked = [("(private)", private), (public[0].catalog.name, public), ("all", records)]
    for catalog, rows in checked:
        figures = expected(rows, events)
        assert metrics.value("swatch_feedback_searches", catalog=catalog) == figures["searches"]
        assert metrics.value("swatch_feedback_accuracy", catalog=catalog) == pytest.approx(
            figures["accuracy"]
        )
