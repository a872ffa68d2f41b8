"""Issue 14: unusual usage of a key is noticed — a rate far above its baseline, an error
spike, a new address of an IP-restricted key, use close to expiry — each an admin row, a
WARNING log line, a mail to ADMINS and a webhook POST; with a clock the test moves."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.test import Client

from access.models import UsageAlert
from config.clock import clock_set

pytestmark = pytest.mark.django_db
START = 1_900_000_200.0  # a multiple of 300: a bucket's start


class _Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook(settings):
    _Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SWATCH_ALERT_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/hook"
    yield _Hook.received
    server.shutdown()


@pytest.fixture
def clock(settings, tmp_path):
    path = tmp_path / "clock"
    settings.SWATCH_TEST_CLOCK_FILE = str(path)
    settings.ADMINS = [("ops", "ops@example.com")]
    settings.SWATCH_ALERT_RATE_MIN = 10
    settings.SWATCH_ALERT_ERROR_MIN = 5
    clock_set(path, START)
    return lambda moment: clock_set(path, moment)


def _get(secret, path="/api/v1/materials/", address="127.0.0.1"):
    return Client().get(path, HTTP_AUTHORIZATION=f"Api-Key {secret}", REMOTE_ADDR=address)


def _kinds():
    return sorted(UsageAlert.objects.values_list("kind", flat=True))


def test_a_rate_far_above_the_keys_baseline_is_an_alert(make_key, clock, webhook, caplog):
    secret = make_key().secret
    for bucket in range(6):  # an hour-ish of steady use: 2 requests every 5 minutes
        clock(START + 300 * bucket)
        assert [_get(secret).status_code for _ in range(2)] == [200, 200]
    assert _kinds() == []

    clock(START + 300 * 6)
    with caplog.at_level(logging.WARNING, logger="swatch.access"):
        for _ in range(14):  # well past max(10, 5 x the baseline of 1 a bucket)
            _get(secret)

    assert _kinds() == ["rate_spike"]  # once, not once a request
    alert = UsageAlert.objects.get()
    assert alert.details["requests"] == 10
    assert any("usage alert rate_spike" in r.getMessage() for r in caplog.records)
    assert [m.subject.endswith("Swatch API key alert: rate_spike") for m in mail.outbox] == [True]
    assert [w["kind"] for w in webhook] == ["rate_spike"]


def test_a_new_keys_first_burst_is_no_rate_alert(make_key, clock):
    secret = make_key().secret
    for _ in range(20):
        _get(secret)
    assert _kinds() == []


def test_an_error_spike_is_an_alert(make_key, clock, webhook):
    secret = make_key().secret
    statuses = [_get(secret, "/api/v1/materials/999999/").status_code for _ in range(6)]

    assert statuses == [404] * 6
    assert _kinds() == ["error_spike"]
    assert webhook[0]["details"] == {"errors": 5, "requests": 5}


def test_a_new_address_of_an_ip_restricted_key_is_an_alert(make_key, clock, settings):
    secret = make_key(allowed_ips=["10.0.0.0/8"]).secret
    unrestricted = make_key(name="anywhere").secret

    _get(secret, address="10.0.0.1")
    _get(secret, address="10.0.0.1")
    assert _kinds() == []
    _get(secret, address="10.0.0.2")
    _get(unrestricted, address="10.0.0.3")
    _get(unrestricted, address="10.0.0.4")

    assert _kinds() == ["new_ip"]
    assert UsageAlert.objects.get().details == {"address": "10.0.0.2"}


def test_use_close_to_expiry_is_an_alert_once_a_day(make_key, clock):
    now = datetime.fromtimestamp(START, tz=UTC)
    soon = make_key(expires_at=now + timedelta(days=3)).secret
    later = make_key(name="later", expires_at=now + timedelta(days=30)).secret

    _get(soon)
    _get(soon)
    _get(later)
    assert _kinds() == ["near_expiry"]
    clock(START + 86_400 + 1)  # a day on: still in use, told again
    _get(soon)
    assert _kinds() == ["near_expiry", "near_expiry"]
