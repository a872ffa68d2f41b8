"""`/metrics` is not public: a bearer token, or a connection from an allowed address."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def guarded(settings):
    settings.SWATCH_METRICS = {**settings.SWATCH_METRICS, "TOKEN": TOKEN, "ALLOWED_IPS": []}


def test_metrics_are_refused_without_the_token(client, guarded):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_required"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "swatch_" not in response.content.decode()


def test_metrics_are_refused_with_a_wrong_token(client, guarded):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x")
    assert response.status_code == 401


def test_metrics_open_with_the_token(client, guarded):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    # Django's series (django-prometheus) and Swatch's shared state, read at scrape time.
    assert "django_http_requests_total_by_method" in names
    assert {"swatch_queue_depth", "swatch_circuit_state", "swatch_scrape_errors"} <= names


def test_metrics_open_to_an_allowed_address_without_a_token(client, settings):
    settings.SWATCH_METRICS = {
        **settings.SWATCH_METRICS,
        "TOKEN": "",
        "ALLOWED_IPS": ["127.0.0.0/8"],
    }
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 401


def test_a_forwarded_for_header_does_not_open_the_metrics(client, settings):
    settings.SWATCH_METRICS = {**settings.SWATCH_METRICS, "TOKEN": "", "ALLOWED_IPS": ["127.0.0.1"]}
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert response.status_code == 401


def test_without_token_or_addresses_nobody_reads_the_metrics(client, settings):
    settings.SWATCH_METRICS = {**settings.SWATCH_METRICS, "TOKEN": "", "ALLOWED_IPS": []}
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
