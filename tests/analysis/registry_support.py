"""Helpers of the embedding-model registry tests: a small analysed catalog of real textures
and the second real image model (the shipped network's other pooling)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

from analysis.embedding_models import EmbeddingModel
from analysis.ingest import analysis_run_batch
from analysis.registry.embedders import reset_embedders
from analysis.vector_indexes import KNOWN_INDEXES, VectorIndex
from tests.analysis.pipeline_support import pending_analyses, store_images

POOLED = "efficientnet-lite0-pooled"
POOLED_PROVIDER = "analysis.providers.offline_image.EfficientNetLite0PooledEmbedder"


def analysed_catalog(shared_data, count: int, *, catalog: str = "acme", skip: int = 0):
    """`count` textures stored and analysed by the offline pipeline (described, embedded)."""
    images = store_images(shared_data, count, catalog=catalog, skip=skip)
    analysis_run_batch(analysis_ids=pending_analyses(images), batch_size=8)
    return images


def command(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def register_pooled(*extra: str, provider: str = POOLED_PROVIDER) -> str:
    return command(
        "register_embedding_model",
        POOLED,
        "--kind",
        "image",
        "--dimensions",
        "1280",
        "--provider",
        provider,
        *extra,
    )


def known_models_registered() -> None:
    """The rows migration 0010 seeds (a transactional test before this one flushed them)."""
    providers = {
        "efficientnet-lite0": "analysis.providers.offline_image.EfficientNetLite0Embedder",
        "all-minilm-l6-v2": "analysis.providers.offline_text.MiniLMTextEmbedder",
    }
    for index in KNOWN_INDEXES:
        EmbeddingModel.objects.get_or_create(
            name=index.model,
            kind=index.kind,
            defaults={"dimensions": index.dimensions, "provider": providers.get(index.model, "")},
        )


@pytest.fixture
def registry(settings):
    """Known models registered, no search answer cached, embedders built afresh; afterwards
    the migrations' indexes are back (a test may drop one) and the test's own are gone."""
    settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "RESULT_CACHE_SECONDS": 0}
    known_models_registered()
    reset_embedders()
    yield
    reset_embedders()
    with connection.cursor() as cursor:
        cursor.execute(VectorIndex(POOLED, "image", 1280).drop_sql())
        for index in KNOWN_INDEXES:
            cursor.execute(index.create_sql())
