"""Fallback chains: each provider call guarded by its circuit breaker and written to the ledger.

A chain is an ordered list of `ProviderLink`s — vision model → offline analyser; remote CLIP →
local CLIP → offline embedder. A link whose circuit is open is skipped at once (and the skip
is recorded, outcome `circuit_open`); a link that fails hands over to the next. So an outage
degrades quality and never loses work: the `DescriptionResult.source` says who answered
("model" or "offline").

Embeddings need care: a vector is only meaningful with the name of the model that made it.
`embed_images` / `embed_texts` (the Protocol methods, answering with `.model`) only fall back
to links of the *same* model (remote CLIP → local CLIP); `embed_images_with_model` /
`embed_texts_with_model` may fall back across models (CLIP → EfficientNet-Lite0 / MiniLM) and
return the model name with the vectors, which callers store with them — an image embedded
by a fallback model is therefore stored, and searched, under that model's name.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import DatabaseError
from django.utils import timezone
from PIL import Image

from analysis.ledger import model_call_record
from analysis.models import ModelCallPurpose
from analysis.providers.protocols import DescriptionResult, ProviderError, Usage
from analysis.resilience.breaker import CircuitBreaker, breaker_for

logger = logging.getLogger("swatch.providers")


class CircuitOpen(ProviderError):
    def __init__(self, provider: str) -> None:
        super().__init__(
            f"{provider}: circuit open, provider skipped", retryable=True, code="circuit_open"
        )


class ProviderLink:
    """One provider in a chain: built on first use, with its breaker and its model name."""

    def __init__(
        self,
        *,
        name: str,
        build: Callable[[], Any],
        model: str | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.name = name
        self._build = build
        self._model = model
        self.breaker = breaker or breaker_for(name)
        self._provider: Any = None
        self._lock = threading.Lock()

    def provider(self) -> Any:
        with self._lock:
            if self._provider is None:
                try:
                    self._provider = self._build()
                except ImportError as exc:
                    raise ProviderError(
                        f"{self.name}: not installed ({exc})", retryable=False, code="unavailable"
                    ) from exc
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
            provider = self.provider()
            self._model = str(getattr(provider, "model", None) or provider.model_id)
        return self._model


def pixels_sha256(image: Image.Image) -> str:
    """A hash of the decoded pixels, for the ledger when the caller has no file hash."""
    digest = hashlib.sha256(f"{image.mode}:{image.size}".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class EmbeddingBatch:
    vectors: np.ndarray
    model: str
    dimensions: int
    provider: str


def _record(
    link: ProviderLink,
    *,
    model: str,
    purpose: str,
    started_at: Any,
    latency_ms: int,
    error: Exception | None = None,
    usage: Usage | None = None,
    items: int = 1,
    image_sha256: str = "",
) -> None:
    usage = usage or getattr(error, "usage", None) or Usage()
    code = None
    if error is not None:
        code = error.code if isinstance(error, ProviderError) else error.__class__.__name__
    try:
        model_call_record(
            provider=link.name,
            model=model,
            purpose=purpose,
            started_at=started_at,
            latency_ms=latency_ms,
            error_code=code,
            error_message=str(error)[:300] if error is not None else "",
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            items=items,
            image_sha256=image_sha256,
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
    usage_of: Callable[[Any], Usage | None] = lambda result: None,
) -> Any:
    """`call(provider)` through the link's breaker, with one ledger row whatever happens."""
    started_at = timezone.now()
    if not link.breaker.allow():
        error = CircuitOpen(link.name)
        _record(
            link,
            model=link.known_model,
            purpose=purpose,
            started_at=started_at,
            latency_ms=0,
            error=error,
            items=items,
            image_sha256=image_sha256,
        )
        raise error
    clock = time.monotonic()
    try:
        provider = link.provider()
        result = call(provider)
    except ProviderError as exc:
        latency_ms = int((time.monotonic() - clock) * 1000)
        link.breaker.record_failure(exc.code)
        _record(
            link,
            model=link.known_model,
            purpose=purpose,
            started_at=started_at,
            latency_ms=latency_ms,
            error=exc,
            items=items,
            image_sha256=image_sha256,
        )
        raise
    except Exception as exc:
        # A bug or a bad input, not an outage: recorded, and raised as it is.
        _record(
            link,
            model=link.known_model,
            purpose=purpose,
            started_at=started_at,
            latency_ms=int((time.monotonic() - clock) * 1000),
            error=exc,
            items=items,
            image_sha256=image_sha256,
        )
        raise
    link.breaker.record_success()
    _record(
        link,
        model=link.model,
        purpose=purpose,
        started_at=started_at,
        latency_ms=int((time.monotonic() - clock) * 1000),
        usage=usage_of(result),
        items=items,
        image_sha256=image_sha256,
    )
    return result


def _exhausted(what: str, errors: list[ProviderError]) -> ProviderError:
    reasons = "; ".join(str(e) for e in errors) or "no provider configured"
    return ProviderError(
        f"no provider could {what}: {reasons}",
        retryable=any(e.retryable for e in errors),
        code=errors[-1].code if errors else "unavailable",
    )


def _embedding_kwargs(provider: Any, embedding: Any, model: str | None) -> dict[str, Any]:
    if embedding is None or model is None:
        return {}
    if "embedding" not in inspect.signature(provider.describe).parameters:
        return {}
    own = getattr(getattr(provider, "embedder", None), "model", None)
    return {"embedding": embedding} if own == model else {}


class FallbackDescriber:
    """`ImageDescriber` trying each link in turn; the result's `source` says who answered."""

    def __init__(self, links: Sequence[ProviderLink]) -> None:
        if not links:
            raise ValueError("a describer chain needs at least one provider")
        self.links = list(links)

    @property
    def model_id(self) -> str:
        return self.links[0].model

    @property
    def source(self) -> str:
        return str(getattr(self.links[0].provider(), "source", "model"))

    def describe(
        self,
        image: Image.Image,
        *,
        image_sha256: str | None = None,
        embedding: Any = None,
        embedding_model: str | None = None,
    ) -> DescriptionResult:
        """`embedding` (made by `embedding_model`) is handed to a link whose own embedder is
        that model, so the offline analyser does not embed the image a second time."""
        sha = image_sha256 or pixels_sha256(image)
        errors: list[ProviderError] = []
        for link in self.links:
            try:
                return guarded_call(
                    link,
                    lambda provider: provider.describe(
                        image, **_embedding_kwargs(provider, embedding, embedding_model)
                    ),
                    purpose=ModelCallPurpose.DESCRIBE,
                    image_sha256=sha,
                    usage_of=lambda result: result.usage,
                )
            except ProviderError as exc:
                errors.append(exc)
                logger.warning("describe: %s failed (%s), trying the next", link.name, exc.code)
        raise _exhausted("describe the image", errors)


class FallbackEmbedder:
    """`ImageEmbedder` + `TextEmbedder` over a chain; see the module doc on model names."""

    def __init__(self, links: Sequence[ProviderLink], *, purpose: str) -> None:
        if not links:
            raise ValueError("an embedder chain needs at least one provider")
        self.links = list(links)
        self.purpose = purpose

    @property
    def model(self) -> str:
        return self.links[0].model

    @property
    def dimensions(self) -> int:
        return int(self.links[0].provider().dimensions)

    def _run(self, method: str, inputs: Sequence[Any], *, same_model: bool) -> EmbeddingBatch:
        errors: list[ProviderError] = []
        for link in self.links:
            try:
                if same_model and link.model != self.model:
                    continue
                vectors = guarded_call(
                    link,
                    lambda provider: getattr(provider, method)(inputs),
                    purpose=self.purpose,
                    items=len(inputs),
                )
            except ProviderError as exc:
                errors.append(exc)
                logger.warning("%s: %s failed (%s), trying the next", method, link.name, exc.code)
                continue
            provider = link.provider()
            return EmbeddingBatch(
                vectors=np.asarray(vectors, dtype=np.float32),
                model=link.model,
                dimensions=int(provider.dimensions),
                provider=link.name,
            )
        raise _exhausted(f"{method.replace('_', ' ')} ({self.purpose})", errors)

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self._run("embed_images", images, same_model=True).vectors

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        return self._run("embed_texts", texts, same_model=True).vectors

    def embed_images_with_model(self, images: Sequence[Image.Image]) -> EmbeddingBatch:
        return self._run("embed_images", images, same_model=False)

    def embed_texts_with_model(self, texts: Sequence[str]) -> EmbeddingBatch:
        return self._run("embed_texts", texts, same_model=False)
