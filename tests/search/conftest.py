"""The search tests run with the shared cache in Redis; their catalog and providers are
tests/search/catalog_support.py's fixtures."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache

from search.background import background_wait
from tests.fakes.caches import cache_settings


@pytest.fixture(autouse=True, scope="session")
def _run_prefix():
    return f"swatch-test-search-{uuid.uuid4().hex[:12]}"


@pytest.fixture(autouse=True)
def _redis_cache(settings, _run_prefix):
    """The shared cache is Redis, as in a deployment of several web processes: the
    refinement thread and the request see one state. A prefix of this run's own, and only
    its keys are deleted."""
    settings.CACHES = cache_settings("redis", _run_prefix)
    cache.delete_pattern("*")
    yield
    background_wait()  # answers being cached in the background land before the cleanup
    cache.delete_pattern("*")
