"""A provider's HTTP failures as `ProviderError`s: which status means what, whether it is
worth retrying, and the provider's own words for it (its error body, shortened)."""

from __future__ import annotations

import json
from collections.abc import Callable

import requests

from analysis.providers.protocols import ProviderError

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def error_excerpt(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):  # OpenAI / Together: {"error": {"message", "type", "code"}}
        parts = [str(error.get(k)) for k in ("code", "type", "message") if error.get(k)]
        return ": ".join(parts)[:300]
    if isinstance(error, str):
        return error[:300]
    return json.dumps(body)[:300]


def status_error(status: int, detail: str, *, provider: str) -> ProviderError:
    if status == 429:
        return ProviderError(
            f"{provider}: rate limited (429): {detail}", retryable=True, code="rate_limited"
        )
    if status == 408:
        return ProviderError(f"{provider}: request timeout (408)", retryable=True, code="timeout")
    if status >= 500:
        return ProviderError(
            f"{provider}: unavailable ({status}): {detail}", retryable=True, code="unavailable"
        )
    if status in {401, 403}:
        return ProviderError(
            f"{provider}: key rejected ({status}): {detail}", retryable=False, code="unauthorized"
        )
    return ProviderError(
        f"{provider}: request refused ({status}): {detail}", retryable=False, code="bad_request"
    )


def request_error(
    exc: requests.RequestException,
    *,
    provider: str,
    read_timeout: float,
    redact: Callable[[str], str],
) -> ProviderError:
    """A request that got no answer: a timeout or refused connection (retried), or a request
    that could not be made at all (not retried). `redact` cleans the exception's text."""
    if isinstance(exc, requests.Timeout):
        return ProviderError(
            f"{provider}: no answer within {read_timeout:.1f}s ({exc.__class__.__name__})",
            retryable=True,
            code="timeout",
        )
    if isinstance(exc, requests.ConnectionError):
        return ProviderError(
            f"{provider}: cannot connect ({redact(str(exc))[:200]})",
            retryable=True,
            code="connection_error",
        )
    return ProviderError(
        f"{provider}: request failed: {redact(str(exc))[:200]}",
        retryable=False,
        code="bad_request",
    )
