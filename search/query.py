"""A search query as the domain sees it, and the parsing of its untrusted parts (filters,
weights) into checked values. Every refusal is a `SearchError` naming the field."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from analysis.colors import (
    NAMED_COLORS,
    hex_to_rgb,
    named_color_lab,
    palette_distances,
    srgb_to_lab,
)
from analysis.depth import AnalysisOptions, AnalysisOptionsInvalid, analysis_options_parse
from analysis.description import FINISHES, MATERIAL_TYPES, PATTERNS
from search import bounds
from search.conf import search_config
from search.crop import ImageCrop, crop_parse
from search.errors import SearchError
from search.weights import fusion_parse, weights_parse

MAX_LIMIT = 100
MAX_PAGE = 50
MAX_TEXT = 1000
# A requested colour matches the palette names within this CIEDE2000 distance of it.
COLOR_FILTER_DELTA_E = 12.0
# The private catalogs hidden from the asker travel with the filters (the stored query and the
# result cache key carry them); set only by `search_query_build`, never by a request.
HIDDEN = "$hidden"
FILTER_KEYS = ("catalog", "category", "material_type", "colors", "finish", "pattern")
FILTER_KEYS += ("min_confidence", "properties", "attributes")


@dataclass(frozen=True)
class QueryImage:
    """A decoded query image: pixels in memory and the hash of the bytes received. Never
    stored anywhere."""

    pixels: Image.Image
    sha256: str


@dataclass(frozen=True)
class SearchFilters:
    catalog_ids: tuple[int, ...] = ()
    catalog_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    material_types: tuple[str, ...] = ()
    color_names: tuple[tuple[str, ...], ...] = ()  # each requested colour: acceptable names
    finishes: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    min_confidence: float | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    hidden_catalog_ids: tuple[int, ...] = ()  # private catalogs the asker may not see
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.raw


def _configured_weights() -> dict[str, float]:
    return dict(search_config().weights)


def _configured_fusion() -> str:
    return search_config().fusion


@dataclass(frozen=True)
class SearchQuery:
    """A checked query. Its weights and fusion are the configured ones unless given: the one
    place the configuration's defaults are applied (`search_query_build` merges a request's
    weights over them)."""

    image: QueryImage | None = None
    text: str = ""
    material_id: int | None = None
    negative_image: QueryImage | None = None
    negative_text: str = ""
    crop: ImageCrop | None = None  # the part of `image` to search; the service cuts it
    filters: SearchFilters = field(default_factory=SearchFilters)
    weights: dict[str, float] = field(default_factory=_configured_weights)
    fusion: str = field(default_factory=_configured_fusion)
    limit: int = 20
    page: int = 1
    # Off only for evaluation, which needs the whole ranking.
    cutoff: bool = True
    analysis: AnalysisOptions = field(default_factory=AnalysisOptions)  # vision, clip, depth

    def __post_init__(self) -> None:
        if self.image is None and not self.text.strip() and self.material_id is None:
            raise SearchError(
                "empty_query",
                "Give an image, a text or a material id to search for.",
                field="image",
            )
        if self.crop is not None and self.image is None:
            raise SearchError("crop_without_image", "A crop needs an image to cut.", field="crop")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise SearchError(
                "invalid_limit", f"limit must be between 1 and {MAX_LIMIT}.", field="limit"
            )
        if not 1 <= self.page <= MAX_PAGE:
            raise SearchError(
                "invalid_page", f"page must be between 1 and {MAX_PAGE}.", field="page"
            )
        bounds.query_check(self, max_text=MAX_TEXT)


def _strings(value: Any, name: str, *, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise SearchError(
            "invalid_filter", f"{name} must be a string or a list of strings.", field=name
        )
    bounds.values_check(values, field=name)
    cleaned = tuple(v.strip().lower() for v in values if v.strip())
    if allowed is not None:
        for item in cleaned:
            if item not in allowed:
                raise SearchError(
                    "invalid_filter",
                    f"{item!r} is not a known value of {name.split('.')[-1]}; "
                    f"use one of {', '.join(allowed)}.",
                    field=name,
                )
    return cleaned


def color_lab(value: str, *, field_name: str) -> tuple[float, float, float]:
    """A colour by palette name or hex → CIELAB."""
    if value.startswith("#"):
        try:
            rgb = hex_to_rgb(value)
        except ValueError as exc:
            raise SearchError("invalid_filter", str(exc), field=field_name) from exc
        lab = srgb_to_lab(rgb)
        return (float(lab[0]), float(lab[1]), float(lab[2]))
    lab = named_color_lab(value)
    if lab is None:
        raise SearchError(
            "invalid_filter",
            f"{value!r} is not a colour Swatch knows; use a hex value (#a0522d) or one of "
            f"{', '.join(NAMED_COLORS)}.",
            field=field_name,
        )
    return lab


def _color_names_near(lab: tuple[float, float, float]) -> tuple[str, ...]:
    distances = palette_distances(lab)
    near = [name for name, distance in distances.items() if distance <= COLOR_FILTER_DELTA_E]
    return tuple(near) or (min(distances, key=distances.__getitem__),)


def _catalogs(value: Any) -> tuple[tuple[int, ...], tuple[str, ...]]:
    refs = [
        bounds.catalog_ref(item, field="filters.catalog")
        for item in _listed(value, "filters.catalog")
    ]
    ids = tuple(ref for ref in refs if isinstance(ref, int))
    return ids, tuple(ref for ref in refs if isinstance(ref, str))


def _listed(value: Any, name: str) -> list:
    return bounds.values_check(value if isinstance(value, list) else [value], field=name)


def _json_object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise SearchError("invalid_filter", f"{name} must be a non-empty JSON object.", field=name)
    return value


def filters_parse(*, raw: Any) -> SearchFilters:
    """Check a request's `filters` object; an unknown key is refused by name."""
    if raw in (None, "", {}):
        return SearchFilters()
    if not isinstance(raw, dict):
        raise SearchError("invalid_filter", "filters must be a JSON object.", field="filters")
    bounds.json_check(raw, field="filters")
    for key in raw:
        if key not in FILTER_KEYS and key != HIDDEN:
            raise SearchError(
                "unknown_filter",
                f"Unknown filter {key!r}; known filters: {', '.join(FILTER_KEYS)}.",
                field=f"filters.{key}",
            )
    values: dict[str, Any] = {"raw": dict(raw)}
    if raw.get(HIDDEN):
        values["hidden_catalog_ids"] = tuple(int(i) for i in raw[HIDDEN])
    if "catalog" in raw:
        values["catalog_ids"], values["catalog_names"] = _catalogs(raw["catalog"])
    if "category" in raw:
        values["categories"] = _strings(raw["category"], "filters.category")
    if "material_type" in raw:
        values["material_types"] = _strings(
            raw["material_type"], "filters.material_type", allowed=MATERIAL_TYPES
        )
    if "colors" in raw:
        colors = _strings(raw["colors"], "filters.colors")
        values["color_names"] = tuple(
            _color_names_near(color_lab(c, field_name="filters.colors")) for c in colors
        )
    if "finish" in raw:
        values["finishes"] = _strings(raw["finish"], "filters.finish", allowed=FINISHES)
    if "pattern" in raw:
        values["patterns"] = _strings(raw["pattern"], "filters.pattern", allowed=PATTERNS)
    if "min_confidence" in raw:
        value = raw["min_confidence"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise SearchError(
                "invalid_filter",
                "filters.min_confidence must be a number from 0 to 1.",
                field="filters.min_confidence",
            )
        values["min_confidence"] = float(value)
    if "properties" in raw:
        values["properties"] = _json_object(raw["properties"], "filters.properties")
    if "attributes" in raw:
        values["attributes"] = _json_object(raw["attributes"], "filters.attributes")
    return SearchFilters(**values)


def filters_hiding(filters: SearchFilters, hidden_catalogs: Iterable[int]) -> SearchFilters:
    """The filters, also hiding these private catalogs from the asker."""
    hidden = sorted(set(filters.hidden_catalog_ids) | {int(i) for i in hidden_catalogs})
    if list(filters.hidden_catalog_ids) == hidden:
        return filters
    raw = {**filters.raw, HIDDEN: hidden}
    return dataclasses.replace(filters, hidden_catalog_ids=tuple(hidden), raw=raw)


def search_query_build(
    *,
    image: QueryImage | None = None,
    text: str = "",
    material_id: int | None = None,
    negative_image: QueryImage | None = None,
    negative_text: str = "",
    crop: Any = None,
    filters: Any = None,
    weights: Any = None,
    fusion: Any = None,
    limit: int = 20,
    page: int = 1,
    analysis: Any = None,
    hidden_catalogs: tuple[int, ...] = (),
) -> SearchQuery:
    """A checked `SearchQuery` from a request's values, over the configured weights and
    fusion; `SearchError` names the bad field. `hidden_catalogs`: the private catalogs the
    asker may not see (access.selectors)."""
    if isinstance(filters, dict) and HIDDEN in filters:
        raise SearchError("unknown_filter", f"Unknown filter {HIDDEN!r}.", field="filters")
    config = search_config()
    try:
        options = analysis_options_parse(analysis)
    except AnalysisOptionsInvalid as exc:
        raise SearchError("invalid_analysis", str(exc), field=exc.field) from exc
    return SearchQuery(
        image=image,
        text=text or "",
        material_id=material_id,
        negative_image=negative_image,
        negative_text=negative_text or "",
        crop=crop_parse(raw=crop),
        filters=filters_hiding(filters_parse(raw=filters), hidden_catalogs),
        weights=weights_parse(raw=weights, defaults=config.weights),
        fusion=fusion_parse(raw=fusion, default=config.fusion),
        limit=limit,
        page=page,
        analysis=options,
    )
