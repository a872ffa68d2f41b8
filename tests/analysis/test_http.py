"""The outbound HTTP module over real HTTP to a local server in the provider's wire format."""

from __future__ import annotations

import logging
import time

import pytest

from analysis.http import HttpPolicy, ProviderSession, redact
from analysis.providers.protocols import ProviderError
from analysis.resilience.backoff import backoff_delay, server_stated_delay
from tests.fakes.openai_server import (
    FakeOpenAIServer,
    Reply,
    error_reply,
    rate_limited,
    unavailable,
)

FAKE_KEY = "sk-test-not-a-real-key-0123456789"
FAST = HttpPolicy(
    connect_timeout=1.0,
    read_timeout=2.0,
    max_attempts=3,
    backoff_base=0.01,
    backoff_max=0.05,
    max_retry_after=2.0,
    max_total_seconds=10.0,
)


@pytest.fixture
def server():
    with FakeOpenAIServer() as fake:
        yield fake


def _session(policy: HttpPolicy = FAST) -> ProviderSession:
    return ProviderSession("together", policy=policy, api_key=FAKE_KEY)


def _chat_url(server: FakeOpenAIServer) -> str:
    return server.base_url + "/chat/completions"


def test_a_good_answer_is_parsed_and_sent_with_the_key(server):
    # given a server that answers at once
    session = _session()

    # when
    answer = session.post_json(_chat_url(server), {"model": "m", "messages": []})

    # then
    assert answer.status == 200
    assert answer.attempts == 1
    assert answer.data["choices"][0]["finish_reason"] == "stop"
    (request,) = server.requests
    assert request.headers["Authorization"] == f"Bearer {FAKE_KEY}"
    assert request.body == {"model": "m", "messages": []}


def test_a_429_is_retried_after_the_stated_x_ratelimit_reset(server):
    # given Together's 429 (dynamic_request_limited) asking for 0.4 s, then an answer
    server.script(rate_limited(reset="0.4"), Reply())

    # when
    answer = _session().post_json(_chat_url(server), {"messages": []})

    # then the second request came no sooner than the stated delay
    assert answer.attempts == 2
    first, second = server.requests
    assert second.at - first.at >= 0.4


def test_retry_after_in_seconds_wins_over_backoff(server):
    # given a 503 with Retry-After: 1 and a backoff that would wait at most 0.05 s
    server.script(Reply(status=503, body={"error": "busy"}, headers={"Retry-After": "1"}), Reply())

    # when
    _session().post_json(_chat_url(server), {})

    # then
    first, second = server.requests
    assert second.at - first.at >= 1.0


def test_a_rate_limit_reset_longer_than_we_wait_fails_at_once_as_rate_limited(server):
    # given a reset of 30 s, far above the policy's 2 s
    server.script(rate_limited(reset="30"))
    started = time.monotonic()

    # when / then
    with pytest.raises(ProviderError) as caught:
        _session().post_json(_chat_url(server), {})
    assert caught.value.code == "rate_limited"
    assert caught.value.retryable
    assert len(server.requests) == 1
    assert time.monotonic() - started < 1.0


def test_503s_are_retried_until_an_answer(server):
    # given two 503s (Together out of capacity), then a good answer
    server.script(unavailable(), unavailable(), Reply())

    # when
    answer = _session().post_json(_chat_url(server), {})

    # then
    assert answer.attempts == 3
    assert len(server.requests) == 3


def test_attempts_are_bounded(server):
    # given a server that is always out of capacity
    server.script(*[unavailable() for _ in range(10)])

    # when / then: exactly max_attempts requests, then a retryable "unavailable"
    with pytest.raises(ProviderError) as caught:
        _session().post_json(_chat_url(server), {})
    assert caught.value.code == "unavailable"
    assert caught.value.retryable
    assert len(server.requests) == FAST.max_attempts


@pytest.mark.parametrize(
    ("status", "fixture_name", "code"),
    [
        (400, "error_503_service_unavailable", "bad_request"),
        (401, "error_401_invalid_api_key", "unauthorized"),
        (404, "error_503_service_unavailable", "bad_request"),
    ],
)
def test_client_errors_are_not_retried(server, status, fixture_name, code):
    # given a 4xx that is neither 408 nor 429
    server.script(error_reply(status, fixture_name))

    # when / then
    with pytest.raises(ProviderError) as caught:
        _session().post_json(_chat_url(server), {})
    assert caught.value.code == code
    assert not caught.value.retryable
    assert len(server.requests) == 1


def test_a_408_is_retried_as_a_timeout(server):
    server.script(Reply(status=408, body={"error": "request timeout"}), Reply())

    answer = _session().post_json(_chat_url(server), {})

    assert answer.attempts == 2


def test_a_hang_past_the_read_timeout_is_a_timeout_and_is_bounded(server):
    # given a server that answers only after 3 s, and a read timeout of 0.3 s, 2 attempts
    server.script(Reply(delay=3.0), Reply(delay=3.0))
    policy = HttpPolicy(
        connect_timeout=1.0,
        read_timeout=0.3,
        max_attempts=2,
        backoff_base=0.01,
        backoff_max=0.01,
        max_total_seconds=5.0,
    )
    started = time.monotonic()

    # when / then
    with pytest.raises(ProviderError) as caught:
        _session(policy).post_json(_chat_url(server), {})
    assert caught.value.code == "timeout"
    assert caught.value.retryable
    assert len(server.requests) == 2
    assert time.monotonic() - started < 1.5


def test_the_total_time_of_a_call_is_bounded(server):
    # given many attempts allowed, but 0.5 s in all for the call
    server.script(*[Reply(delay=2.0) for _ in range(5)])
    policy = HttpPolicy(
        connect_timeout=1.0,
        read_timeout=0.3,
        max_attempts=10,
        backoff_base=0.01,
        backoff_max=0.01,
        max_total_seconds=0.5,
    )
    started = time.monotonic()

    with pytest.raises(ProviderError) as caught:
        _session(policy).post_json(_chat_url(server), {})

    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 1.2
    assert len(server.requests) <= 3


def test_a_refused_connection_is_a_connection_error(server):
    # given a port nobody listens on (the server's own port, once closed)
    url = _chat_url(server)
    server.__exit__(None, None, None)

    with pytest.raises(ProviderError) as caught:
        _session().post_json(url, {})

    assert caught.value.code == "connection_error"
    assert caught.value.retryable


def test_an_answer_that_is_not_json_is_a_bad_response(server):
    server.script(Reply(status=200, body="<html>gateway</html>"))

    with pytest.raises(ProviderError) as caught:
        _session().post_json(_chat_url(server), {})

    assert caught.value.code == "bad_response"
    assert not caught.value.retryable


def test_secrets_and_image_payloads_never_reach_the_logs(server, caplog):
    # given a server whose error echoes the request: the key and a base64 image
    image_payload = "data:image/jpeg;base64," + "QUJD" * 500
    echoed = f"bad request: Authorization: Bearer {FAKE_KEY}; image_url {image_payload}"
    server.script(Reply(status=400, body={"error": {"message": echoed, "code": "invalid"}}))
    caplog.set_level(logging.DEBUG, logger="swatch.http")

    # when
    with pytest.raises(ProviderError) as caught:
        _session().post_json(_chat_url(server), {"image": image_payload})

    # then nothing secret in the log lines nor in the error
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "bad request" in logged  # the line was logged…
    for text in (logged, str(caught.value)):
        assert FAKE_KEY not in text  # …without the key
        assert "QUJDQUJD" not in text  # …or the image


def test_redact_removes_keys_bearer_tokens_and_data_urls():
    text = (
        'Authorization: Bearer abc.def-123 api_key=zzz "x-api-key": "k-9" '
        "data:image/png;base64,iVBORw0KGgo= and my-secret-value"
    )

    cleaned = redact(text, secrets=["my-secret-value"])

    for secret in ("abc.def-123", "zzz", "k-9", "iVBORw0KGgo", "my-secret-value"):
        assert secret not in cleaned
    assert "data:image/png;base64,[" in cleaned


def test_full_jitter_stays_within_the_exponential_ceiling():
    delays = [backoff_delay(attempt=3, base=0.5, cap=30.0) for _ in range(500)]

    assert all(0.0 <= d <= 2.0 for d in delays)
    assert max(delays) > 1.0  # spread over the range, not a fixed wait
    assert min(delays) < 1.0
    assert all(backoff_delay(attempt=10, base=0.5, cap=3.0) <= 3.0 for _ in range(100))


@pytest.mark.parametrize(
    ("headers", "now", "expected"),
    [
        ({"retry-after": "7"}, 0, 7.0),
        ({"x-ratelimit-reset": "0.25"}, 0, 0.25),
        ({"x-ratelimit-reset": "1000000042"}, 1_000_000_000, 42.0),  # a Unix time
        ({"retry-after": "Thu, 01 Jan 1970 00:00:10 GMT"}, 0, 10.0),  # an HTTP date
        ({"retry-after": "soon"}, 0, None),
        ({}, 0, None),
    ],
)
def test_server_stated_delay(headers, now, expected):
    assert server_stated_delay(headers, now=now) == expected
