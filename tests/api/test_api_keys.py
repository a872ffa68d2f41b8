"""Issue 14: API keys against a live server — scopes, IP and origin restrictions, rotation
grace, expiry and revocation (401 codes that say which), anonymous use as a setting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from access.models import ApiKey
from access.services import key_revoke, key_rotate
from tests.api import http
from tests.api.conftest import auth

pytestmark = pytest.mark.django_db(transaction=True)


def _search(url, headers=None):
    return http.post(f"{url}/api/v1/search/", json={"text": "oak"}, headers=headers or {})


def _code(response) -> str:
    return response.json()["error"]["code"]


def test_a_key_is_stored_hashed_and_shown_once_with_its_prefix(make_key):
    issued = make_key()
    stored = ApiKey.objects.get(pk=issued.key.pk)

    assert issued.secret.startswith(stored.prefix + ".")
    assert issued.secret not in (stored.hashed_key, stored.id)
    assert stored.hashed_key.startswith("sha512$$")


def test_scopes_decide_what_a_key_may_do(live_server, providers, sample_catalog, make_key):
    search_only = make_key(scopes=["search"]).secret
    reader = make_key(scopes=["catalog:read"]).secret
    oak = sample_catalog["oak"].pk

    assert _search(live_server.url, auth(search_only)).status_code == 200
    refused = _search(live_server.url, auth(reader))
    assert (refused.status_code, _code(refused)) == (403, "scope_missing")
    detail = f"{live_server.url}/api/v1/materials/{oak}/"
    assert http.get(detail, headers=auth(reader)).status_code == 200
    no_read = http.get(detail, headers=auth(search_only))
    assert (no_read.status_code, _code(no_read)) == (403, "scope_missing")


def test_an_unknown_key_answers_401_naming_its_scheme(live_server, db):
    response = _search(live_server.url, auth("nosuchpr.secretsecret"))

    assert (response.status_code, _code(response)) == (401, "api_key_invalid")
    assert response.headers["WWW-Authenticate"] == "Api-Key"


def test_without_anonymous_use_a_key_is_required(live_server, providers, sample_catalog,
                                                  make_key, settings):  # fmt: skip
    settings.SWATCH_API_ANONYMOUS = False
    secret = make_key().secret

    anonymous = _search(live_server.url)
    assert (anonymous.status_code, _code(anonymous)) == (401, "authentication_required")
    assert _search(live_server.url, {"X-Api-Key": secret}).status_code == 200
    # the pages still work without a key
    assert http.get(f"{live_server.url}/?text=oak").status_code == 200


def test_allowed_ips_admit_their_clients_and_refuse_others(
    live_server, providers, sample_catalog, make_key, settings
):
    settings.TRUSTED_PROXIES = ("127.0.0.1",)  # the test plays the proxy: X-Forwarded-For
    secret = make_key(allowed_ips=["198.51.100.0/24", "2001:db8::1"]).secret

    inside = _search(live_server.url, {**auth(secret), "X-Forwarded-For": "198.51.100.7"})
    outside = _search(live_server.url, {**auth(secret), "X-Forwarded-For": "203.0.113.9"})
    v6 = _search(live_server.url, {**auth(secret), "X-Forwarded-For": "2001:db8::1"})

    assert inside.status_code == 200
    assert (outside.status_code, _code(outside)) == (403, "ip_not_allowed")
    assert v6.status_code == 200


def test_allowed_origins_admit_browser_calls_and_answer_cors_only_for_them(
    live_server, providers, sample_catalog, make_key
):
    secret = make_key(allowed_origins=["https://app.example.com"]).secret
    url = f"{live_server.url}/api/v1/search/"

    allowed = _search(live_server.url, {**auth(secret), "Origin": "https://app.example.com"})
    other = _search(live_server.url, {**auth(secret), "Origin": "https://evil.example"})
    preflight = http.options(url, headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})  # fmt: skip
    foreign = http.options(url, headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})  # fmt: skip

    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert (other.status_code, _code(other)) == (403, "origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in other.headers
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_a_rotated_key_works_through_its_grace_and_then_says_expired(
    live_server, providers, sample_catalog, make_key
):
    old = make_key()
    # rotated now: both work during the grace (default 7 days)
    new = key_rotate(key=old.key)
    old.key.refresh_from_db()
    assert timedelta(days=6, hours=23) < old.key.expiry_date - timezone.now() <= timedelta(7)
    assert _search(live_server.url, auth(old.secret)).status_code == 200
    assert _search(live_server.url, auth(new.secret)).status_code == 200

    # a key rotated 8 days ago: its grace is over
    older = make_key(name="older")
    newer = key_rotate(key=older.key, now=timezone.now() - timedelta(days=8))
    expired = _search(live_server.url, auth(older.secret))
    assert (expired.status_code, _code(expired)) == (401, "api_key_expired")
    assert newer.key.prefix in expired.json()["error"]["message"]
    assert _search(live_server.url, auth(newer.secret)).status_code == 200


def test_expired_and_revoked_keys_answer_401_with_their_own_codes(
    live_server, providers, sample_catalog, make_key
):
    expired = make_key(expires_at=timezone.now() - timedelta(minutes=1))
    revoked = make_key(name="revoked")
    key_revoke(key=revoked.key)
    valid = make_key(name="valid", expires_at=timezone.now() + timedelta(days=30))

    keys = [("expired", expired), ("revoked", revoked), ("valid", valid)]
    answers = {name: _search(live_server.url, auth(issued.secret)) for name, issued in keys}

    assert (answers["expired"].status_code, _code(answers["expired"])) == (401, "api_key_expired")
    assert (answers["revoked"].status_code, _code(answers["revoked"])) == (401, "api_key_revoked")
    assert answers["valid"].status_code == 200
