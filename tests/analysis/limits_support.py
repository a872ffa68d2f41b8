"""Shared parts of the limits tests: the counters' two backends, each under a prefix of its
own, and settings with the limits under test."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache

from tests.fakes.caches import cache_settings


@pytest.fixture(params=["database", "redis"])
def counters(request, settings):
    """The limits counted in PostgreSQL (no Redis) or in Redis, as a deployment would."""
    prefix = f"swatch-limits-{uuid.uuid4().hex[:12]}"
    settings.CACHES = cache_settings(request.param, prefix)
    yield request.param
    if request.param == "redis":
        cache.delete_pattern("*")  # only this prefix's keys


def set_limits(settings, provider: str, **windows: int) -> None:
    settings.SWATCH_LIMITS = {
        **settings.SWATCH_LIMITS,
        "PROVIDERS": {**settings.SWATCH_LIMITS["PROVIDERS"], provider: windows},
    }
