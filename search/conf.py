"""The search settings (`settings.SWATCH_SEARCH`), parsed and checked once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

STRATEGIES = ("vector", "properties", "semantic")
FUSIONS = ("calibrated", "rrf", "relative")
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*s?\s*$")


@dataclass(frozen=True)
class Rate:
    requests: int
    seconds: int


@dataclass(frozen=True)
class SearchConfig:
    similarity_threshold: float
    candidates: int
    ef_search: int
    max_scan_tuples: int
    exact_scan_max_rows: int
    fusion: str
    weights: dict[str, float]
    rrf_k: int
    verify_top: int
    verify_weight: float
    negative_weight: float
    result_cache_seconds: int
    query_ttl_seconds: int
    refine_workers: int
    strategy_workers: int = 0
    verify_extend: int = 0
    semantic_ef_search: int = 40
    good_match: float = 0.5
    calibration: str = ""
    rates: dict[str, Rate] = field(default_factory=dict)
    lookup_rates: dict[str, Rate] = field(default_factory=dict)
    feedback_rates: dict[str, Rate] = field(default_factory=dict)
    malformed_rates: dict[str, Rate] = field(default_factory=dict)


def verified_depth(config: SearchConfig) -> int:
    """How many of an image query's closest candidates verification may check."""
    return max(config.verify_top, config.verify_extend) if config.verify_top > 0 else 0


def weights_from_text(text: str) -> dict[str, float]:
    """`vector=1,properties=0.8` → {"vector": 1.0, "properties": 0.8, "semantic": 0.0}."""
    weights = dict.fromkeys(STRATEGIES, 0.0)
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in STRATEGIES:
            raise ImproperlyConfigured(f"SWATCH_SEARCH_WEIGHTS: unknown strategy {name!r}.")
        try:
            weights[name] = float(value)
        except ValueError as exc:
            raise ImproperlyConfigured(f"SWATCH_SEARCH_WEIGHTS: {part!r} is no number.") from exc
    return weights


def rate_from_text(name: str, text: str) -> Rate:
    match = _RATE.match(text)
    if not match or int(match.group(2)) <= 0:
        raise ImproperlyConfigured(f"search rate {name}: {text!r} is not like '10/60s'.")
    return Rate(requests=int(match.group(1)), seconds=int(match.group(2)))


@lru_cache(maxsize=8)
def _parsed(frozen: tuple) -> SearchConfig:
    raw = dict(frozen)
    fusion = raw["FUSION"]
    if fusion not in FUSIONS:
        raise ImproperlyConfigured(f"SWATCH_SEARCH_FUSION must be one of {FUSIONS}.")
    return SearchConfig(
        similarity_threshold=raw["SIMILARITY_THRESHOLD"],
        candidates=raw["CANDIDATES"],
        ef_search=raw["EF_SEARCH"],
        max_scan_tuples=raw["MAX_SCAN_TUPLES"],
        exact_scan_max_rows=raw["EXACT_SCAN_MAX_ROWS"],
        fusion=fusion,
        weights=weights_from_text(raw["WEIGHTS"]),
        rrf_k=raw["RRF_K"],
        verify_top=raw.get("VERIFY_TOP", 0),
        verify_extend=raw.get("VERIFY_EXTEND", 0),
        verify_weight=raw.get("VERIFY_WEIGHT", 0.0),
        negative_weight=raw["NEGATIVE_WEIGHT"],
        result_cache_seconds=raw["RESULT_CACHE_SECONDS"],
        query_ttl_seconds=raw["QUERY_TTL_SECONDS"],
        refine_workers=raw["REFINE_WORKERS"],
        strategy_workers=raw.get("STRATEGY_WORKERS", 0),
        semantic_ef_search=raw.get("SEMANTIC_EF_SEARCH", 40),
        good_match=raw.get("GOOD_MATCH", 0.5),
        calibration=raw.get("CALIBRATION", ""),
        rates={name: rate_from_text(name, text) for name, text in dict(raw["RATES"]).items()},
        lookup_rates={
            name: rate_from_text(name, text)
            for name, text in dict(raw.get("LOOKUP_RATES", {})).items()
        },
        feedback_rates={
            name: rate_from_text(name, text)
            for name, text in dict(raw.get("FEEDBACK_RATES", {})).items()
        },
        malformed_rates={
            name: rate_from_text(name, text)
            for name, text in dict(raw.get("MALFORMED_RATES", {})).items()
        },
    )


def search_config() -> SearchConfig:
    """The current settings (re-read when tests override `SWATCH_SEARCH`)."""
    raw = settings.SWATCH_SEARCH
    frozen = tuple(
        (key, tuple(sorted(value.items())) if isinstance(value, dict) else value)
        for key, value in sorted(raw.items())
    )
    return _parsed(frozen)
