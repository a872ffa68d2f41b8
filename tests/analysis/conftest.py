"""Fixtures of the analysis tests (the registry's are tests/analysis/registry_support.py's, a
plugin: the reliability tests use them too)."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache


@pytest.fixture
def own_cache(settings):
    """A cache namespace of this test alone (never `cache.clear()`: on Redis that is FLUSHDB,
    which would wipe every other process's keys)."""
    prefix = f"swatch-test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"]}}
    settings.CACHES["default"]["KEY_PREFIX"] = prefix
    yield prefix
    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        cache.delete_pattern("*")  # django-redis: only the keys under this prefix


TEST_PROVIDERS = "tests.analysis.pipeline_support.make_providers"


@pytest.fixture
def pipeline_settings(settings):
    """The pipeline (and the curation services, which embed corrections with the pipeline's
    text embedder) use the small real providers, not the offline models."""
    settings.SWATCH = {**settings.SWATCH, "PIPELINE_PROVIDERS": TEST_PROVIDERS}
    cache.clear()  # a description cached by an earlier test must not answer for this one
    return settings
