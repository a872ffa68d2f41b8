"""The untrusted `weights` and `fusion` of a search request, checked (`SearchError` names the
field); re-exported by `search.query`."""

from __future__ import annotations

import math
from typing import Any

from search import bounds
from search.conf import FUSIONS, STRATEGIES
from search.errors import SearchError

__all__ = ["fusion_parse", "weights_parse"]


def weights_parse(*, raw: Any, defaults: dict[str, float]) -> dict[str, float]:
    """A request's weights over the defaults: numbers ≥ 0, known strategies only."""
    weights = dict(defaults)
    if raw in (None, "", {}):
        return weights
    if not isinstance(raw, dict):
        raise SearchError(
            "invalid_weights",
            'weights must be an object like {"vector": 1, "properties": 0.5}.',
            field="weights",
        )
    bounds.json_check(raw, field="weights")
    for name, value in raw.items():
        if name not in STRATEGIES:
            raise SearchError(
                "invalid_weights",
                f"Unknown strategy {name!r}; weights apply to {', '.join(STRATEGIES)}.",
                field=f"weights.{name}",
            )
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                value = None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise SearchError(
                "invalid_weights", f"weights.{name} must be a number.", field=f"weights.{name}"
            )
        if value < 0:
            raise SearchError(
                "invalid_weights", f"weights.{name} must not be negative.", field=f"weights.{name}"
            )
        weights[name] = float(value)
    if not any(weights.values()):
        raise SearchError(
            "invalid_weights", "At least one strategy needs a weight above 0.", field="weights"
        )
    return weights


def fusion_parse(*, raw: Any, default: str) -> str:
    if raw in (None, ""):
        return default
    if raw not in FUSIONS:
        raise SearchError(
            "invalid_fusion", f"fusion must be one of {', '.join(FUSIONS)}.", field="fusion"
        )
    return raw
