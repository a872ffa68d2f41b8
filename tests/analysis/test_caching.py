"""Caching of embeddings and descriptions: hashed keys, lifetimes, reuse across catalogs.

Each test runs on both cache backends Swatch uses: the database cache (no Redis configured)
and Redis (REDIS_URL set), under a key prefix of its own.
"""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from django.core.cache import cache
from PIL import Image

from analysis import caching
from analysis.ingest import analysis_run_batch
from analysis.models import Embedding, VisualAnalysis
from analysis.providers.protocols import NO_HINTS, DescriptionResult
from analysis.query import query_image_description, query_image_embedding, query_text_embedding
from tests.analysis.pipeline_support import (
    CountingDescriber,
    CountingImageEmbedder,
    CountingTextEmbedder,
    HashingTextEmbedder,
    PixelStatsDescriber,
    RgbHistogramEmbedder,
    make_providers,
    pending_analyses,
    store_images,
)

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["database", "redis"])
def backend(request, settings):
    prefix = f"swatch-test-{uuid.uuid4().hex[:12]}"
    if request.param == "redis":
        settings.CACHES = {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": REDIS,
                "KEY_PREFIX": prefix,
                "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
            }
        }
    else:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": "swatch_cache",
                "KEY_PREFIX": prefix,
            }
        }
    yield request.param
    if request.param == "redis":
        cache.delete_pattern("*")  # only this prefix's keys (clear() would be FLUSHDB)


def _stored_keys(backend: str) -> list[str]:
    if backend == "redis":
        from django_redis import get_redis_connection

        prefix = cache.key_prefix
        return [k.decode() for k in get_redis_connection("default").scan_iter(f"{prefix}:*")]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM swatch_cache")
        return [row[0] for row in cursor.fetchall()]


def _pixels(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8))


@pytest.mark.django_db
def test_the_same_bytes_in_another_catalog_reuse_the_analysis_without_a_model_call(
    shared_data, backend
):
    # given one texture stored in two catalogs, and counting providers
    (first,) = store_images(shared_data, 1, catalog="supplier-a")
    (second,) = store_images(shared_data, 1, catalog="supplier-b")
    assert first.sha256 == second.sha256
    providers = make_providers(
        describer=CountingDescriber(PixelStatsDescriber()),
        image_embedder=CountingImageEmbedder(RgbHistogramEmbedder()),
        text_embedder=CountingTextEmbedder(HashingTextEmbedder()),
    )

    # when the first catalog's image is analysed, then the second's
    analysis_run_batch(analysis_ids=pending_analyses([first]), providers=providers)
    analysis_run_batch(analysis_ids=pending_analyses([second]), providers=providers)

    # then each model was called once, and the second image has the same analysis and vectors
    assert providers.describer.calls == 1
    assert providers.image_embedder.calls == 1
    assert providers.text_embedder.calls == 1
    a, b = VisualAnalysis.objects.get(image=first), VisualAnalysis.objects.get(image=second)
    assert (b.status, b.description, b.model_id) == (a.status, a.description, a.model_id)
    for kind in ("image", "description"):
        np.testing.assert_array_equal(
            Embedding.objects.get(image=first, kind=kind).vector,
            Embedding.objects.get(image=second, kind=kind).vector,
        )


@pytest.mark.django_db
def test_cache_keys_hold_no_user_data_in_clear(backend):
    # given a query image, a query text and a describer
    sha256 = "ab" * 32
    text = "warm oak with a satin finish"
    describer = PixelStatsDescriber(model_id="vision-model-x")

    # when they are encoded through the cache
    query_image_embedding(pixels=_pixels(1), sha256=sha256, embedder=RgbHistogramEmbedder())
    query_text_embedding(text=text, embedder=HashingTextEmbedder())
    query_image_description(pixels=_pixels(1), sha256=sha256, describer=describer)

    # then three keys are stored, none naming the hash, the text, a word of it, or a model
    keys = _stored_keys(backend)
    assert len(keys) == 3
    for key in keys:
        for secret in (sha256, sha256[:16], "oak", "satin", "rgb-hist", "vision-model", "t1"):
            assert secret not in key


@pytest.mark.django_db
def test_image_embeddings_live_a_day_and_descriptions_a_week_in_redis(settings):
    # given the Redis cache under a prefix of this run
    prefix = f"swatch-test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS,
            "KEY_PREFIX": prefix,
        }
    }
    sha256 = "cd" * 32
    describer = PixelStatsDescriber()
    try:
        # when an image is embedded and described
        query_image_embedding(pixels=_pixels(2), sha256=sha256, embedder=RgbHistogramEmbedder())
        query_image_description(pixels=_pixels(2), sha256=sha256, describer=describer)

        # then the entries expire after 24 h and 7 days
        embedding_ttl = cache.ttl(caching.image_embedding_key(sha256=sha256, model="rgb-hist-64"))
        description_ttl = cache.ttl(
            caching.description_key(sha256=sha256, model_id="px-1", prompt_version="t1")
        )
        assert 86_390 <= embedding_ttl <= 86_400
        assert 604_790 <= description_ttl <= 604_800
    finally:
        cache.delete_pattern("*")  # only this prefix's keys (clear() would be FLUSHDB)


@pytest.mark.django_db
def test_query_encodings_are_computed_once_per_content_and_model(backend):
    # given counting providers
    embedder = CountingImageEmbedder(RgbHistogramEmbedder())
    text_embedder = CountingTextEmbedder(HashingTextEmbedder())
    describer = CountingDescriber(PixelStatsDescriber())

    # when the same query is encoded twice, and another image once
    first = query_image_embedding(pixels=_pixels(3), sha256="1" * 64, embedder=embedder)
    again = query_image_embedding(pixels=_pixels(3), sha256="1" * 64, embedder=embedder)
    query_image_embedding(pixels=_pixels(4), sha256="2" * 64, embedder=embedder)
    text_1 = query_text_embedding(text="grey slate", embedder=text_embedder)
    text_2 = query_text_embedding(text="grey slate", embedder=text_embedder)
    described = query_image_description(pixels=_pixels(3), sha256="1" * 64, describer=describer)
    described_again = query_image_description(
        pixels=_pixels(3), sha256="1" * 64, describer=describer
    )

    # then the repeats came from the cache, equal to the first answers
    assert (embedder.images, text_embedder.calls, describer.calls) == (2, 1, 1)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(text_1, text_2)
    assert first.shape == (64,)
    assert described_again.description == described.description
    assert described_again.model_id == "px-1"


class FallbackAnsweringDescriber(PixelStatsDescriber):
    """Configured for the vision model, answered by the offline fallback."""

    def describe(self, image, *, hints=NO_HINTS):
        result = super().describe(image, hints=hints)
        return DescriptionResult(
            description=result.description,
            source="offline",
            model_id="offline-analyser",
            prompt_version="offline-1",
        )


@pytest.mark.django_db
def test_a_fallback_answer_is_not_served_as_the_vision_model_s(backend):
    # given a chain whose vision model is down: the offline fallback answers
    describer = CountingDescriber(FallbackAnsweringDescriber(model_id="vision-model"))

    # when the same image is described twice
    query_image_description(pixels=_pixels(5), sha256="5" * 64, describer=describer)
    query_image_description(pixels=_pixels(5), sha256="5" * 64, describer=describer)

    # then the vision model is asked again (the fallback's answer is filed under its own id)
    assert describer.calls == 2
    assert caching.cached_description(
        sha256="5" * 64, model_id="offline-analyser", prompt_version="offline-1"
    )


@pytest.mark.django_db
def test_a_cached_description_that_no_longer_validates_is_not_served(backend):
    # given a cache entry under the describer's key that does not validate
    describer = CountingDescriber(PixelStatsDescriber())
    key = caching.description_key(sha256="6" * 64, model_id="px-1", prompt_version="t1")
    cache.set(key, {"description": {"material_type": "unobtainium"}, "source": "offline"})

    # when the image is described
    result = query_image_description(pixels=_pixels(6), sha256="6" * 64, describer=describer)

    # then the model answered, and its answer replaced the bad entry
    assert describer.calls == 1
    assert caching.cached_description(
        sha256="6" * 64, model_id="px-1", prompt_version="t1"
    ).description == (result.description)
