"""Fallback chains: the Protocols over an ordered list of `ProviderLink`s.

A chain is built from an ordered settings list (`analysis.providers.factory`) — vision model →
offline analyser; remote CLIP → local CLIP → offline embedder. A link whose circuit is open is
skipped at once (the skip is recorded, outcome `circuit_open`); a link that fails hands over
to the next. So an outage degrades quality and never loses work: `DescriptionResult.source`
says who answered ("model" or "offline").

Embeddings need care: a vector is only meaningful with the name of the model that made it, so
the `EmbeddingBatch` a chain returns names the model of the link that answered — an image
embedded by a fallback model is stored, and searched, under that model's name.

Limits and budgets (`analysis.limits`, `analysis.budget`): a link over a money budget hands
over like a failed one; a link over a rate or token limit hands over in interactive work, and
in background work raises its `OverLimit` at once — the task is deferred, not answered by a
lesser model. A description answered by a later link because of either says so
(`fallback="budget"`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Any

from PIL import Image

from analysis.limits.mode import BACKGROUND, call_mode
from analysis.providers.fallback import ProviderLink, guarded_call, pixels_sha256
from analysis.providers.protocols import (
    NO_HINTS,
    DescribeHints,
    DescriptionResult,
    EmbeddingBatch,
    ProviderError,
)

logger = logging.getLogger("swatch.providers")

BUDGET_CODES = frozenset({"over_limit", "budget"})


def _exhausted(what: str, errors: list[ProviderError]) -> ProviderError:
    reasons = "; ".join(str(e) for e in errors) or "no provider configured"
    return ProviderError(
        f"no provider could {what}: {reasons}",
        retryable=any(e.retryable for e in errors),
        code=errors[-1].code if errors else "unavailable",
    )


def _first_answer(
    links: Sequence[ProviderLink], attempt: Callable[[ProviderLink], Any], what: str
) -> Any:
    """`attempt(link)` for each link in turn until one answers; with the codes of the links
    that did not."""
    errors: list[ProviderError] = []
    for link in links:
        try:
            return attempt(link), [e.code for e in errors]
        except ProviderError as exc:
            if exc.code == "over_limit" and call_mode() == BACKGROUND:
                raise  # background work waits for the limit (deferred), see the module doc
            errors.append(exc)
            logger.warning("%s: %s failed (%s), trying the next", what, link.name, exc.code)
    raise _exhausted(what, errors)


class FallbackDescriber:
    """`ImageDescriber` trying each link in turn; the result's `source` says who answered."""

    def __init__(self, links: Sequence[ProviderLink], *, purpose: str = "describe") -> None:
        if not links:
            raise ValueError("a describer chain needs at least one provider")
        self.links = list(links)
        self.purpose = purpose

    @property
    def model_id(self) -> str:
        return self.links[0].model

    @property
    def source(self) -> str:
        return self.links[0].provider().source

    @property
    def prompt_version(self) -> str:
        """The first link's: a fallback's answer is cached under its own id and version."""
        return self.links[0].provider().prompt_version

    def prompt_version_for(self, depth: str) -> str:
        """The first link's prompt version at `depth` (`analysis.depth`)."""
        return self.links[0].provider().prompt_version_for(depth)

    @property
    def embedding_model(self) -> str | None:
        """The image-embedding model some link can use (the offline analyser's), if any."""
        for link in self.links:
            try:
                model = link.provider().embedding_model
            except ProviderError:
                continue
            if model:
                return model
        return None

    def describe(self, image: Image.Image, *, hints: DescribeHints = NO_HINTS) -> DescriptionResult:
        """Every link gets the same hints; a link uses `hints.embedding` only when it was made
        by the model its own classifier reads (`embedding_model`)."""
        if not hints.image_sha256:
            hints = dataclasses.replace(hints, image_sha256=pixels_sha256(image))

        def attempt(link: ProviderLink) -> DescriptionResult:
            return guarded_call(
                link,
                lambda provider: provider.describe(image, hints=hints),
                purpose=self.purpose,
                image_sha256=hints.image_sha256,
                usage_of=lambda result: result.usage,
                depth=hints.depth,
            )

        result, skipped = _first_answer(self.links, attempt, "describe the image")
        if BUDGET_CODES.intersection(skipped):
            result = dataclasses.replace(result, fallback="budget")
        return result


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

    def _run(self, embed: Callable[[Any], EmbeddingBatch], items: int, what: str) -> EmbeddingBatch:
        def attempt(link: ProviderLink) -> EmbeddingBatch:
            batch = guarded_call(link, embed, purpose=self.purpose, items=items)
            return dataclasses.replace(batch, provider=link.name)

        return _first_answer(self.links, attempt, f"{what} ({self.purpose})")[0]

    def embed_images(self, images: Sequence[Image.Image]) -> EmbeddingBatch:
        return self._run(lambda p: p.embed_images(images), len(images), "embed images")

    def embed_texts(self, texts: Sequence[str]) -> EmbeddingBatch:
        return self._run(lambda p: p.embed_texts(texts), len(texts), "embed texts")
