"""One provider of a fallback chain, and the one way it is called: `guarded_call`.

A `ProviderLink` builds its provider on first use and holds its circuit breaker. Every call
through `guarded_call` — answered, failed, skipped by an open circuit — leaves exactly one
ledger row, written in one place whatever the outcome. The chains themselves (which link is
tried when) are `analysis.providers.chains`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError
from django.utils import timezone
from PIL import Image

from analysis.ledger import model_budget_check, model_call_record
from analysis.providers.protocols import ProviderError, Usage
from analysis.resilience.breaker import CircuitBreaker, breaker_for

logger = logging.getLogger("swatch.providers")


class CircuitOpen(ProviderError):
    def __init__(self, provider: str) -> None:
        super().__init__(
            f"{provider}: circuit open, provider skipped", retryable=True, code="circuit_open"
        )


class ProviderLink:
    """One provider of a chain: built on first use, with its breaker and its model name.

    `model_of` reads the model name off the built provider (`model_id` of a describer, `model`
    of an embedder); `model`, when the settings name it, is known before anything is built and
    must be what the provider then says.
    """

    def __init__(
        self,
        *,
        name: str,
        build: Callable[[], Any],
        model_of: Callable[[Any], str],
        model: str | None = None,
        offline: bool = False,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.name = name
        self.offline = offline
        self._build = build
        self._model_of = model_of
        self._model = model or None
        self.breaker = breaker or breaker_for(name)
        self._provider: Any = None
        self._lock = threading.Lock()

    def provider(self) -> Any:
        with self._lock:
            if self._provider is None:
                try:
                    provider = self._build()
                except ImportError as exc:
                    raise ProviderError(
                        f"{self.name}: not installed ({exc})", retryable=False, code="unavailable"
                    ) from exc
                if self._model is not None and self._model_of(provider) != self._model:
                    raise ProviderError(
                        f"{self.name}: the settings name model {self._model!r}, the provider "
                        f"is {self._model_of(provider)!r}",
                        retryable=False,
                        code="misconfigured",
                    )
                self._provider = provider
            return self._provider

    @property
    def built(self) -> bool:
        return self._provider is not None

    @property
    def known_model(self) -> str:
        """The model name if known without building the provider, else ""."""
        if self._model is None and self._provider is not None:
            return self.model
        return self._model or ""

    @property
    def model(self) -> str:
        if self._model is None:
            self._model = str(self._model_of(self.provider()))
        return self._model


def pixels_sha256(image: Image.Image) -> str:
    """A hash of the decoded pixels, for the ledger when the caller has no file hash."""
    digest = hashlib.sha256(f"{image.mode}:{image.size}".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def _record(
    link: ProviderLink,
    *,
    purpose: str,
    started_at: Any,
    latency_ms: int,
    error: Exception | None,
    usage: Usage,
    items: int,
    image_sha256: str,
    depth: str,
) -> None:
    code = None
    if error is not None:
        code = error.code if isinstance(error, ProviderError) else error.__class__.__name__
    try:
        model_call_record(
            provider=link.name,
            model=link.known_model if error is not None else link.model,
            purpose=purpose,
            started_at=started_at,
            latency_ms=latency_ms,
            error_code=code,
            error_message=str(error)[:300] if error is not None else "",
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            items=items,
            image_sha256=image_sha256,
            depth=depth,
        )
    except DatabaseError:
        # The answer matters more than its ledger row: keep going, loudly.
        logger.exception("ledger: could not record a %s call of %s", purpose, link.name)


def guarded_call(
    link: ProviderLink,
    call: Callable[[Any], Any],
    *,
    purpose: str,
    items: int = 1,
    image_sha256: str = "",
    usage_of: Callable[[Any], Usage] = lambda result: Usage(),
    depth: str = "",
) -> Any:
    """`call(provider)` through the link's breaker, with one ledger row whatever happens.

    Availability failures count towards opening the circuit; a bug or a bad input (any other
    exception) is recorded and raised as it is. A paid model over its money budget is not
    called (`BudgetExhausted`, code `budget`).
    """
    started_at = timezone.now()
    clock = time.monotonic()
    error: Exception | None = None
    usage = Usage()
    try:
        if not link.breaker.allow():
            raise CircuitOpen(link.name)
        if not link.offline:
            model_budget_check(link.name, model=link.known_model)  # over it: BudgetExhausted
        try:
            result = call(link.provider())
        except ProviderError as exc:
            link.breaker.record_failure(exc.code)
            raise
        link.breaker.record_success()
        usage = usage_of(result)
        return result
    except ProviderError as exc:
        error, usage = exc, exc.usage
        raise
    except Exception as exc:
        error = exc
        link.breaker.record_failure("error")  # ends a trial call; not counted otherwise
        raise
    finally:
        _record(
            link,
            purpose=purpose,
            started_at=started_at,
            latency_ms=int((time.monotonic() - clock) * 1000),
            error=error,
            usage=usage,
            items=items,
            image_sha256=image_sha256,
            depth=depth,
        )
