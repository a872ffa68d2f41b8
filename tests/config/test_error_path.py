"""The one error path: a forced exception is a JSON 500 with a request id on the API and the
site's own 500 page elsewhere, and a log line with the traceback and the same id; an outage is
a 503 with Retry-After; Django's own 404s under /api/ are JSON too."""

import io
import logging
import re

import pytest
from django.test import Client

from config.request_id import RequestIdLogFilter

pytestmark = pytest.mark.django_db


@pytest.fixture
def crash_urls(settings, monkeypatch):
    settings.ROOT_URLCONF = "tests.fakes.crash_urls"
    # The embedded server is running: nothing to start again in these tests.
    monkeypatch.setattr("config.errors.recovery.embedded_revive_soon", lambda: False)


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


@pytest.fixture
def server_log(settings):
    """What the `django.request` logger writes, formatted and filtered as settings.LOGGING
    says (its console handler's stream is pytest's capture here)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"]))
    handler.addFilter(RequestIdLogFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_a_forced_exception_on_the_api_is_a_json_500_logged_with_its_traceback_and_id(
    crash_urls, client, server_log
):
    response = client.get("/api/v1/test-crash/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    request_id = response["X-Request-ID"]
    assert error["code"] == "server_error"
    assert error["request_id"] == request_id
    assert request_id in error["message"]
    log = server_log.getvalue()
    line = next(x for x in log.splitlines() if "Internal Server Error: /api/v1/test-crash/" in x)
    assert f"[{request_id}]" in line
    assert "Traceback (most recent call last)" in log
    assert "Boom: a bug in an API view" in log


def test_a_forced_exception_on_a_page_is_the_sites_500_page(crash_urls, client, server_log):
    response = client.get("/test-crash/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert 'data-code="500"' in body
    assert response["X-Request-ID"] in body
    log = server_log.getvalue()
    assert f"[{response['X-Request-ID']}] Internal Server Error: /test-crash/" in log
    assert "Boom: a bug in a page" in log


def test_a_client_request_id_is_kept_and_a_bad_one_replaced(crash_urls, client):
    kept = client.get("/api/v1/test-fine/", HTTP_X_REQUEST_ID="lb-1234.abcd")
    replaced = client.get("/api/v1/test-fine/", HTTP_X_REQUEST_ID="bad id\nwith a newline")
    made = client.get("/api/v1/test-fine/")

    assert kept["X-Request-ID"] == "lb-1234.abcd"
    assert re.fullmatch(r"[0-9a-f]{32}", replaced["X-Request-ID"])
    assert re.fullmatch(r"[0-9a-f]{32}", made["X-Request-ID"])
    assert made["X-Request-ID"] != replaced["X-Request-ID"]


def test_a_database_outage_is_a_503_with_retry_after(crash_urls, client):
    api = client.get("/api/v1/test-database-down/")
    page = client.get("/test-database-down/")

    assert api.status_code == 503
    assert api["Retry-After"] == "5"
    assert api.json()["error"]["code"] == "database_unavailable"
    assert page.status_code == 503
    assert page["Retry-After"] == "5"
    assert 'data-code="503"' in page.content.decode()


@pytest.mark.parametrize("path", ["/api/nothing-here/", "/api/v1/materials/abc/", "/api/v1/"])
def test_unknown_api_routes_are_a_json_404(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_unknown_pages_are_the_sites_404_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert 'data-code="404"' in response.content.decode()
