"""Shared parts of the limits tests: settings with the limits under test."""

from __future__ import annotations


def set_limits(settings, provider: str, **windows: int) -> None:
    settings.SWATCH_LIMITS = {
        **settings.SWATCH_LIMITS,
        "PROVIDERS": {**settings.SWATCH_LIMITS["PROVIDERS"], provider: windows},
    }
