"""A provider's hardened HTTP session: its timeouts, bounded retries with full-jitter
exponential backoff that honour the server's stated wait, and a bound on one call's total time
(the table of what is retried: `analysis/http/__init__.py`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from analysis.http.errors import RETRY_STATUSES, error_excerpt, request_error, status_error
from analysis.http.limited import LimitedSession
from analysis.http.redaction import redact, secrets_known
from analysis.providers.protocols import ProviderError
from analysis.resilience.backoff import backoff_delay, server_stated_delay

logger = logging.getLogger("swatch.http")

USER_AGENT = "swatch/1.0 (+material search)"


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts and retry bounds of one provider."""

    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 20.0
    max_retry_after: float = 60.0
    max_total_seconds: float = 180.0

    @classmethod
    def from_settings(cls, *, timeout: tuple[float, float]) -> HttpPolicy:
        conf = settings.SWATCH_PROVIDERS
        return cls(
            connect_timeout=float(timeout[0]),
            read_timeout=float(timeout[1]),
            max_attempts=max(int(conf["HTTP_MAX_ATTEMPTS"]), 1),
            backoff_base=float(conf["HTTP_BACKOFF_BASE"]),
            backoff_max=float(conf["HTTP_BACKOFF_MAX"]),
            max_retry_after=float(conf["HTTP_MAX_RETRY_AFTER"]),
            max_total_seconds=float(conf["HTTP_MAX_TOTAL_SECONDS"]),
        )


@dataclass
class JsonResponse:
    data: Any
    status: int
    attempts: int
    elapsed: float
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Failed:
    """One attempt that failed in a way worth retrying, and the wait the server asked for."""

    error: ProviderError
    wait: float | None = None


class ProviderSession:
    """A `requests.Session` for one provider, with the policy above. Thread-safe for the
    concurrent calls of one process (requests sessions share a connection pool)."""

    def __init__(
        self,
        provider: str,
        *,
        policy: HttpPolicy,
        api_key: str | None = None,
        headers: dict[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.provider = provider
        self.policy = policy
        self._secrets = tuple(s for s in (api_key,) if s)
        secrets_known(self._secrets)
        self._sleep = sleep
        self._session = LimitedSession(provider)  # the limits, before each request
        # Retries are ours (they honour x-ratelimit-reset and a total time bound).
        adapter = HTTPAdapter(max_retries=0, pool_connections=4, pool_maxsize=8)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        if api_key:
            self._session.headers["Authorization"] = f"Bearer {api_key}"
        self._session.headers.update(headers or {})

    def _redact(self, text: str) -> str:
        return redact(text, secrets=self._secrets)

    def post_json(self, url: str, payload: dict[str, Any]) -> JsonResponse:
        """POST `payload` as JSON, retrying what is worth retrying; the parsed JSON answer or
        a `ProviderError`."""
        started = time.monotonic()
        deadline = started + self.policy.max_total_seconds
        attempt = 0
        while True:
            attempt += 1
            outcome = self._attempt(url, payload, attempt=attempt, deadline=deadline)
            if isinstance(outcome, requests.Response):
                return self._parsed(outcome, attempt=attempt, started=started)
            self._sleep(self._retry_wait(outcome, attempt=attempt, deadline=deadline))

    def _attempt(
        self, url: str, payload: dict[str, Any], *, attempt: int, deadline: float
    ) -> requests.Response | _Failed:
        """One POST: the successful response, or a failure worth retrying (any other failure
        is raised)."""
        policy = self.policy
        remaining = deadline - time.monotonic()
        timeout = (policy.connect_timeout, max(min(policy.read_timeout, remaining), 0.05))
        try:
            response = self._session.post(url, json=payload, timeout=timeout)
        except requests.RequestException as exc:
            error = request_error(
                exc, provider=self.provider, read_timeout=timeout[1], redact=self._redact
            )
            if not error.retryable:
                raise error from exc
            logger.warning(
                "%s POST %s: %s (attempt %d/%d)",
                self.provider, url, error, attempt, policy.max_attempts,
            )  # fmt: skip
            return _Failed(error)
        if response.ok:
            return response
        detail = self._redact(error_excerpt(response))
        error = status_error(response.status_code, detail, provider=self.provider)
        logger.warning(
            "%s POST %s -> %s (attempt %d/%d): %s",
            self.provider, url, response.status_code, attempt, policy.max_attempts, detail,
        )  # fmt: skip
        if response.status_code not in RETRY_STATUSES:
            raise error
        stated = (
            server_stated_delay(response.headers) if response.status_code in {429, 503} else None
        )
        return _Failed(error, stated)

    def _retry_wait(self, failed: _Failed, *, attempt: int, deadline: float) -> float:
        """How long to wait before the next attempt; raises the failure when no attempt is
        left, when the server asks for a longer wait than we give, or when out of time."""
        policy, error, wait = self.policy, failed.error, failed.wait
        if attempt >= policy.max_attempts:
            raise error
        if wait is not None and wait > policy.max_retry_after:
            raise ProviderError(
                f"{error} (asked to wait {wait:.0f}s, more than the "
                f"{policy.max_retry_after:.0f}s we wait)",
                retryable=True,
                code=error.code,
            )
        if wait is None:
            wait = backoff_delay(attempt=attempt, base=policy.backoff_base, cap=policy.backoff_max)
        if time.monotonic() + wait >= deadline:
            raise ProviderError(
                f"{error} (out of time: {policy.max_total_seconds:.0f}s per call)",
                retryable=True,
                code=error.code,
            )
        return wait

    def _parsed(self, response: requests.Response, *, attempt: int, started: float) -> JsonResponse:
        try:
            data = response.json()
        except ValueError as exc:
            raise ProviderError(
                f"{self.provider}: answer is not JSON ({self._redact(response.text[:200])!r})",
                retryable=False,
                code="bad_response",
            ) from exc
        elapsed = time.monotonic() - started
        logger.debug(
            "%s POST %s -> %s in %.0f ms (%d attempt(s))",
            self.provider,
            response.url,
            response.status_code,
            elapsed * 1000,
            attempt,
        )
        return JsonResponse(
            data=data,
            status=response.status_code,
            attempts=attempt,
            elapsed=elapsed,
            headers=dict(response.headers),
        )

    def close(self) -> None:
        self._session.close()


def provider_session(
    provider: str,
    *,
    timeout: tuple[float, float],
    api_key: str | None = None,
    headers: dict[str, str] | None = None,
) -> ProviderSession:
    """A hardened session for `provider`, with the retry bounds from settings."""
    return ProviderSession(
        provider,
        policy=HttpPolicy.from_settings(timeout=timeout),
        api_key=api_key,
        headers=headers,
    )
