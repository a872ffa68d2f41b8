"""Swatch's search series at `/metrics`: correct values after known requests (one process;
tests/config/test_metrics_multiprocess.py adds them up across two server processes)."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from search.background import background_wait
from tests.metrics_support import scrape
from tests.search.catalog_support import COLORS, png

pytestmark = pytest.mark.django_db
GENEROUS = {"burst": "1000/1s", "minute": "10000/60s", "hour": "100000/3600s"}


@pytest.fixture(autouse=True)
def metrics_open(settings):
    settings.SWATCH_METRICS = {**settings.SWATCH_METRICS, "TOKEN": "", "ALLOWED_IPS": ["127.0.0.1"]}


@pytest.fixture
def generous(settings):
    settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "RATES": GENEROUS}


def upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("query.png", data, content_type="image/png")


def _refined(api, query_id):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if api.get(f"/api/v1/search/{query_id}/").json()["phase"] == "refined":
            return
        time.sleep(0.05)
    pytest.fail("the refined answer never came")


def test_search_series_after_known_requests(providers, sample_catalog, gate, generous):
    api, metrics = APIClient(), Client()
    before = scrape(metrics)

    # two identical text searches: the second is answered from the answer cache
    for _ in range(2):
        assert api.post("/api/v1/search/", {"text": "oak"}, format="json").status_code == 200
        background_wait()
    # a search whose filters leave nothing: zero results
    empty = api.post(
        "/api/v1/search/", {"text": "oak", "filters": {"material_type": "leather"}}, format="json"
    )
    assert empty.json()["results"] == []
    # an image upload: fast now, refined in the background once the describer answers
    fast = api.post("/api/v1/search/", {"image": upload(png(COLORS["brown"]))}, format="multipart")
    assert fast.json()["phase"] == "fast"
    # the fast answer is cached in the background: once it is, a poll before the refinement
    # ends reads it instead of searching again (a busy machine polled first: one more search)
    background_wait()
    gate.set()
    _refined(api, fast.json()["query_id"])
    # a file that is no image: refused by the intake
    bad = api.post("/api/v1/search/", {"image": upload(b"not an image")}, format="multipart")
    assert bad.status_code == 400

    after = scrape(metrics)

    def grew(name, **labels):
        return after.value(name, **labels) - before.value(name, **labels)

    assert grew("swatch_search_seconds_count", operation="search", kind="text") == 3
    assert grew("swatch_search_seconds_count", operation="search", kind="image", phase="fast") == 1
    assert grew("swatch_search_seconds_count", operation="read", phase="refined") >= 1
    assert grew("swatch_search_answers_total", outcome="zero_results") == 1
    assert grew("swatch_search_answers_total", outcome="good_match") == 3
    assert grew("swatch_cache_lookups_total", cache="search_answer", outcome="hit") >= 1
    assert grew("swatch_cache_lookups_total", cache="search_answer", outcome="miss") >= 3
    # the semantic strategy ran for the first text search, the filtered one and the refined
    # image answer (its description); not for the cached text answer nor the fast image one
    assert grew("swatch_search_strategy_seconds_count", strategy="semantic") == 3
    assert grew("swatch_search_strategy_seconds_count", strategy="vector") == 2
    assert grew("swatch_search_strategy_seconds_count", strategy="properties") >= 1
    assert grew("swatch_search_refinement_seconds_count", outcome="done") == 1
    assert grew("swatch_validation_failures_total", stage="image_intake", code="not_an_image") == 1
    # and Django's own series, from django-prometheus
    assert grew("django_http_requests_total_by_method_total", method="POST") == 5
    assert grew("django_db_execute_total") > 0


def test_rate_limit_refusals_are_counted_by_surface(providers, sample_catalog, settings):
    settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "RATES": {"burst": "1/10s"}}
    api, metrics = APIClient(), Client()
    before = scrape(metrics)

    statuses = [api.post("/api/v1/search/", {"text": "oak"}, format="json").status_code]
    statuses.append(api.post("/api/v1/search/", {"text": "oak"}, format="json").status_code)
    statuses.append(Client().get("/", {"text": "oak"}).status_code)  # a page search: GET

    after = scrape(metrics)
    assert statuses == [200, 429, 429]
    for surface in ("api", "page"):
        labels = {"scope": "search", "surface": surface}
        assert (
            after.value("swatch_rate_limit_refusals_total", **labels)
            - before.value("swatch_rate_limit_refusals_total", **labels)
            == 1
        )
