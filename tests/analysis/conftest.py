"""Fixtures of the analysis tests."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def own_cache(settings):
    """A cache namespace of this test alone (never `cache.clear()`: on Redis that is FLUSHDB,
    which would wipe every other process's keys)."""
    prefix = f"swatch-test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"]}}
    settings.CACHES["default"]["KEY_PREFIX"] = prefix
    yield prefix
    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        from django.core.cache import cache

        cache.delete_pattern("*")  # django-redis: only the keys under this prefix
