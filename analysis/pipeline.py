"""The ingestion pipeline's parts: its providers, inputs and outcomes, and its quality checks.

`analysis.compute` runs the models over inputs (no database writes, never inside a
transaction); `analysis.services` claims rows and writes each outcome in one short transaction;
`analysis.ingest` puts the two together.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.utils.module_loading import import_string
from PIL import Image

from analysis.description import (
    CATEGORY_OF_TYPE,
    DescriptionInvalid,
    MaterialDescription,
    description_parse,
)
from analysis.limits.outbound import OverLimit
from analysis.models import AnalysisStatus
from analysis.providers.protocols import (
    DescriptionResult,
    ImageDescriber,
    ImageEmbedder,
    ProviderError,
    TextEmbedder,
)
from analysis.vectors import l2_normalise
from materials.metrics import VALIDATION_FAILURES

logger = logging.getLogger("swatch.analysis.pipeline")

DESCRIBED_SOURCES = {"model", "offline"}


class AnalysisQualityError(Exception):
    """A description or vector that passed the schema but cannot be stored as it is."""


@dataclass(frozen=True)
class PipelineProviders:
    describer: ImageDescriber
    image_embedder: ImageEmbedder
    text_embedder: TextEmbedder


def pipeline_providers_from_factory() -> PipelineProviders:
    from analysis.providers import factory  # providers load lazily, on first use
    from analysis.registry.embedders import active_embedder
    from analysis.registry.selectors import active_models

    active = active_models()  # the registry's active models, else the configured chains
    return PipelineProviders(
        describer=factory.get_describer(),
        image_embedder=active_embedder("image", active),
        text_embedder=active_embedder("description", active),
    )


def pipeline_providers() -> PipelineProviders:
    """The providers the pipeline uses by default (`SWATCH_PIPELINE_PROVIDERS`)."""
    return import_string(settings.SWATCH["PIPELINE_PROVIDERS"])()


@dataclass(frozen=True)
class PipelineInput:
    key: int
    sha256: str
    pixels: Image.Image
    # None: describe the image. A description: keep it (curated) and only (re-)embed.
    kept_description: MaterialDescription | None = None
    # What the image embedder sees (`materials.intake.embedding_input`); None: `pixels`.
    embedding_pixels: Image.Image | None = None

    @property
    def embedder_input(self) -> Image.Image:
        return self.pixels if self.embedding_pixels is None else self.embedding_pixels


@dataclass(frozen=True)
class PipelineOutput:
    key: int
    description: MaterialDescription
    result: DescriptionResult | None  # None when the description was kept, not made
    status: str
    image_model: str
    image_vector: np.ndarray
    text_model: str
    text_vector: np.ndarray
    text: str


@dataclass(frozen=True)
class Embedded:
    model: str
    vector: np.ndarray


@dataclass(frozen=True)
class PipelineFailure:
    key: int
    reason: str
    retryable: bool
    # Over a provider's limit (background work): not a failure, wait `defer_after` seconds.
    defer_after: float = 0.0
    defer_provider: str = ""


def failure_of(key: int, stage: str, exc: Exception) -> PipelineFailure:
    if isinstance(exc, OverLimit):
        reason = f"{stage}: {exc.code}: {exc}"
        return PipelineFailure(key, reason, True, max(exc.retry_after, 0.001), exc.provider)
    if isinstance(exc, ProviderError):
        return PipelineFailure(key, f"{stage}: {exc.code}: {exc}", exc.retryable)
    if isinstance(exc, DescriptionInvalid):
        return PipelineFailure(key, f"{stage}: invalid description: {exc}", False)
    if isinstance(exc, AnalysisQualityError):
        return PipelineFailure(key, f"{stage}: {exc}", False)
    logger.exception("%s failed for item %s", stage, key)
    return PipelineFailure(key, f"{stage}: {type(exc).__name__}: {exc}", False)


def vector_checked(vector: Any, *, dimensions: int, what: str) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32).reshape(-1)
    if array.shape[0] != dimensions:
        raise AnalysisQualityError(f"{what} has {array.shape[0]} dimensions, not {dimensions}")
    if not np.all(np.isfinite(array)):
        raise AnalysisQualityError(f"{what} holds NaN or infinite values")
    if float(np.linalg.norm(array)) < 1e-6:
        raise AnalysisQualityError(f"{what} is a zero vector")
    return l2_normalise(array)


def description_status(result: DescriptionResult) -> str:
    """Quality validation of a schema-valid description: `completed` or `needs_review`.

    Raises `DescriptionInvalid` / `AnalysisQualityError` for output that must not be stored
    (each counted in `swatch_validation_failures_total{stage="description"}`).
    """
    try:
        return _description_status(result)
    except DescriptionInvalid:
        VALIDATION_FAILURES.labels(stage="description", code="schema").inc()
        raise
    except AnalysisQualityError:
        VALIDATION_FAILURES.labels(stage="description", code="quality").inc()
        raise


def _description_status(result: DescriptionResult) -> str:
    description = description_parse(result.description.model_dump(mode="json"))
    if result.source not in DESCRIBED_SOURCES:
        raise AnalysisQualityError(f"unknown description source {result.source!r}")
    if not result.model_id:
        raise AnalysisQualityError("the describer did not say which model answered")
    shares = sum(color.share for color in description.colors)
    if shares > 1.05:
        raise AnalysisQualityError(f"colour shares add up to {shares:.2f}, more than 1")
    threshold = settings.SWATCH["REVIEW_CONFIDENCE"]
    if description.confidence.overall < threshold:
        return AnalysisStatus.NEEDS_REVIEW
    if CATEGORY_OF_TYPE.get(description.material_type) != description.category:
        return AnalysisStatus.NEEDS_REVIEW  # self-contradicting: a person should look
    return AnalysisStatus.COMPLETED


def known(read: Callable[[], Any]) -> Any:
    """A provider's model name or size, or None when the provider cannot even be built: then
    there is no cache entry to look up, and its call fails per image, with the reason."""
    try:
        return read()
    except ProviderError:
        return None
