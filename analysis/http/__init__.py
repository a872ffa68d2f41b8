"""The one package that talks HTTP out (nothing else imports `requests`; downloads: `.download`).

Each provider gets its own hardened session (`provider_session`; limits first: `.limited`): its
own timeouts, bounded retries with full-jitter exponential backoff that honour the server's
`Retry-After` / `x-ratelimit-reset`, a bound on the total time of one call, and logs without
secrets (Authorization headers, keys, image data URLs). Every failure is a `ProviderError`:

| what happened                         | code             | retried |
|---------------------------------------|------------------|---------|
| connect/read timeout, 408             | timeout          | yes     |
| 429 (Together: dynamic_request_limited)| rate_limited    | yes, after the stated wait |
| 500, 502, 503, 504, refused connection| unavailable / connection_error | yes |
| 401, 403                              | unauthorized     | no      |
| other 4xx                             | bad_request      | no      |
| 2xx that is not JSON                  | bad_response     | no      |
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from analysis.http.limited import LimitedSession
from analysis.providers.protocols import ProviderError
from analysis.resilience.backoff import backoff_delay, server_stated_delay

logger = logging.getLogger("swatch.http")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
USER_AGENT = "swatch/1.0 (+material search)"

_DATA_URL = re.compile(r"data:([\w.+-]+/[\w.+-]+);base64,[A-Za-z0-9+/=_-]+")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',}]+")
_KEY_FIELD = re.compile(
    r"(?i)([\"']?(?:api[_-]?key|authorization|x-api-key|access[_-]?token|secret)[\"']?"
    r"\s*[:=]\s*[\"']?)[^\s\"',}&]+"
)


def redact(text: str, *, secrets: Iterable[str] = ()) -> str:
    """`text` with secrets and image payloads removed: known secret values, bearer tokens,
    key=value / "key": "value" credentials and base64 data URLs."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = _DATA_URL.sub(lambda m: f"data:{m.group(1)};base64,[{len(m.group(0))} chars]", text)
    text = _BEARER.sub(r"\1[redacted]", text)
    return _KEY_FIELD.sub(r"\1[redacted]", text)


class RedactingFilter(logging.Filter):
    """Installed on the `swatch.http` logger: whatever is logged there, by whom, leaves
    without secrets, even from an exception text that echoes a request."""

    def __init__(self, secrets: Callable[[], Iterable[str]] = tuple) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact(message, secrets=self._secrets())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(
                logging.Formatter().formatException(record.exc_info), secrets=self._secrets()
            )
            record.exc_info = None
        return True


_KNOWN_SECRETS: set[str] = set()
_FILTER = RedactingFilter(lambda: tuple(_KNOWN_SECRETS))
if not any(isinstance(f, RedactingFilter) for f in logger.filters):
    logger.addFilter(_FILTER)


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


def _error_excerpt(response: requests.Response) -> str:
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


def _status_error(status: int, detail: str, *, provider: str) -> ProviderError:
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
        _KNOWN_SECRETS.update(self._secrets)
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
        policy = self.policy
        started = time.monotonic()
        deadline = started + policy.max_total_seconds
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - time.monotonic()
            timeout = (policy.connect_timeout, max(min(policy.read_timeout, remaining), 0.05))
            wait: float | None = None
            try:
                response = self._session.post(url, json=payload, timeout=timeout)
            except requests.Timeout as exc:
                error = ProviderError(
                    f"{self.provider}: no answer within {timeout[1]:.1f}s "
                    f"({exc.__class__.__name__})",
                    retryable=True,
                    code="timeout",
                )
            except requests.ConnectionError as exc:
                error = ProviderError(
                    f"{self.provider}: cannot connect ({self._redact(str(exc))[:200]})",
                    retryable=True,
                    code="connection_error",
                )
            except requests.RequestException as exc:
                raise ProviderError(
                    f"{self.provider}: request failed: {self._redact(str(exc))[:200]}",
                    retryable=False,
                    code="bad_request",
                ) from exc
            else:
                if response.ok:
                    return self._parsed(response, attempt=attempt, started=started)
                detail = self._redact(_error_excerpt(response))
                error = _status_error(response.status_code, detail, provider=self.provider)
                if response.status_code in {429, 503}:
                    wait = server_stated_delay(response.headers)
                logger.warning(
                    "%s POST %s -> %s (attempt %d/%d): %s",
                    self.provider,
                    url,
                    response.status_code,
                    attempt,
                    policy.max_attempts,
                    detail,
                )
                if response.status_code not in RETRY_STATUSES:
                    raise error
            if error.code in {"timeout", "connection_error"}:
                logger.warning(
                    "%s POST %s: %s (attempt %d/%d)",
                    self.provider,
                    url,
                    error,
                    attempt,
                    policy.max_attempts,
                )
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
                wait = backoff_delay(
                    attempt=attempt, base=policy.backoff_base, cap=policy.backoff_max
                )
            if time.monotonic() + wait >= deadline:
                raise ProviderError(
                    f"{error} (out of time: {policy.max_total_seconds:.0f}s per call)",
                    retryable=True,
                    code=error.code,
                )
            self._sleep(wait)

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
