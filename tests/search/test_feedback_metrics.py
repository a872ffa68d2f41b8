"""Feedback at `/metrics`: events counted by kind as they are stored, refusals of the
feedback rate limit by surface."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.metrics_support import scrape

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def metrics_open(settings):
    settings.SWATCH_METRICS = {**settings.SWATCH_METRICS, "TOKEN": "", "ALLOWED_IPS": ["127.0.0.1"]}
    settings.SWATCH_SEARCH = {
        **settings.SWATCH_SEARCH,
        "RATES": {"burst": "1000/1s", "minute": "10000/60s", "hour": "100000/3600s"},
        "FEEDBACK_RATES": {"feedback": "4/60s"},
    }


def test_feedback_events_and_refusals_are_counted(providers, sample_catalog):
    api, metrics = APIClient(), Client()
    oak, navy = sample_catalog["oak"], sample_catalog["navy"]
    query_id = api.post("/api/v1/search/", {"text": "oak"}, format="json").json()["query_id"]
    before = scrape(metrics)

    def post(kind, **extra):
        body = {"query_id": query_id, "material_id": oak.pk, "kind": kind, **extra}
        return api.post("/api/v1/feedback/", body, format="json").status_code

    statuses = [post("good"), post("click", position=1), post("sample_requested")]
    statuses.append(
        api.post(
            f"/api/v1/materials/{navy.pk}/flag/", {"reason": "leather"}, format="json"
        ).status_code
    )
    statuses.append(post("bad"))  # the fifth in the minute: refused
    after = scrape(metrics)

    def grew(name, **labels):
        return after.value(name, **labels) - before.value(name, **labels)

    assert statuses == [201, 201, 201, 201, 429]
    for kind in ("good", "click", "sample_requested", "flag"):
        assert grew("swatch_feedback_events_total", kind=kind) == 1, kind
    assert grew("swatch_feedback_events_total", kind="bad") == 0
    assert grew("swatch_rate_limit_refusals_total", scope="feedback", surface="api") == 1
