"""Reads for the pages: the filter sidebar's choices (what the catalog actually holds) and a
material's detail."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from django.db import connection

from analysis.colors import NAMED_COLORS
from analysis.models import AnalysisStatus, VisualAnalysis
from materials.models import Catalog, Material
from search.browse import facet_counts
from search.pages.describe import PlainDescription, image_alt, plain_description
from search.query import SearchFilters, filters_parse
from search.selectors import material_analysis, material_get

# Analyses whose description search may use (failed/pending/rejected ones say nothing).
DESCRIBED = (
    AnalysisStatus.COMPLETED,
    AnalysisStatus.NEEDS_REVIEW,
    AnalysisStatus.APPROVED,
)


@dataclass(frozen=True)
class FacetOption:
    value: str
    label: str
    count: int | None = None  # materials the other filters and this value keep
    hex: str = ""  # colours: the swatch


@dataclass(frozen=True)
class Facets:
    catalogs: list[FacetOption] = field(default_factory=list)
    material_types: list[FacetOption] = field(default_factory=list)
    colors: list[FacetOption] = field(default_factory=list)
    finishes: list[FacetOption] = field(default_factory=list)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _present_colors(hidden_catalogs: tuple[int, ...]) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c->>'name' FROM material_visual_analysis a "
            "JOIN materials_materialimage i ON i.id = a.image_id, "
            "jsonb_array_elements(CASE WHEN jsonb_typeof(a.description->'colors') = 'array' "
            "THEN a.description->'colors' ELSE '[]'::jsonb END) c "
            "WHERE a.status = ANY(%s) AND NOT i.catalog_id = ANY(%s::bigint[])",
            [list(DESCRIBED), list(hidden_catalogs)],
        )
        return {row[0] for row in cursor.fetchall() if row[0]}


def facet_values(*, hidden_catalogs: tuple[int, ...] = ()) -> Facets:
    """The values present in the catalog, so that no filter offers what cannot match; none
    of `hidden_catalogs` (private ones the asker may not see: neither their names nor a value
    only they hold)."""
    described = VisualAnalysis.objects.filter(status__in=DESCRIBED).exclude(
        image__catalog_id__in=hidden_catalogs
    )
    material_types = sorted(
        set(described.exclude(material_type="").values_list("material_type", flat=True))
    )
    finishes = sorted(
        set(described.values_list("description__finish", flat=True)) - {None, "", "unknown"}
    )
    names = _present_colors(hidden_catalogs)
    catalogs = (
        Catalog.objects.filter(materials__isnull=False)
        .exclude(pk__in=hidden_catalogs)
        .distinct()
        .values_list("id", "name")
    )
    return Facets(
        catalogs=[FacetOption(str(pk), name) for pk, name in catalogs],
        material_types=[FacetOption(t, t.capitalize()) for t in material_types],
        colors=[
            FacetOption(n, n.capitalize(), hex=_hex(rgb))
            for n, rgb in NAMED_COLORS.items()
            if n in names
        ],
        finishes=[FacetOption(f, f.capitalize()) for f in finishes],
    )


_FACET_FILTER_KEYS = {
    "catalogs": ("catalog", "catalog"),
    "material_types": ("material_type", "material_type"),
    "colors": ("color", "colors"),
    "finishes": ("finish", "finish"),
}


def facets_counted(
    *, values: Facets, filters: SearchFilters | None = None, hidden_catalogs: tuple[int, ...] = ()
) -> Facets:
    """`values` with each one's count of the materials it keeps beside the other `filters`,
    never counting a material of `hidden_catalogs`."""
    options = {}
    for attribute, (facet, key) in _FACET_FILTER_KEYS.items():
        options[facet] = [
            (o.value, filters_parse(raw={key: [o.value] if key == "colors" else o.value}))
            for o in getattr(values, attribute)
        ]
    filters = filters or SearchFilters()
    if hidden_catalogs:
        filters = dataclasses.replace(filters, hidden_catalog_ids=tuple(hidden_catalogs))
    counts = facet_counts(filters=filters, values=options)
    return Facets(
        **{
            attribute: [
                dataclasses.replace(o, count=counts[facet][o.value])
                for o in getattr(values, attribute)
            ]
            for attribute, (facet, _) in _FACET_FILTER_KEYS.items()
        }
    )


@dataclass(frozen=True)
class MaterialDetail:
    material: Material
    images: list
    analysis: VisualAnalysis | None
    plain: PlainDescription | None  # the analysis in plain words, when it may be shown
    attributes: list[tuple[str, str]]  # the catalog's own columns, as the supplier gave them
    image_alt: str


def _attribute_label(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def material_detail_get(
    *, material_id: int, hidden_catalogs: tuple[int, ...] = ()
) -> MaterialDetail:
    """A material with its images and the analysis of its primary image (`SearchError` 404,
    also when its catalog is hidden from the asker)."""
    material = material_get(material_id=material_id, hidden_catalogs=hidden_catalogs)
    analysis = material_analysis(material)
    plain = plain_description(analysis)
    attributes = [
        (_attribute_label(k), str(v))
        for k, v in sorted((material.attributes or {}).items())
        if v not in (None, "") and not isinstance(v, dict | list)
    ]
    return MaterialDetail(
        material=material,
        images=list(material.images.all()),
        analysis=analysis,
        plain=plain,
        attributes=attributes,
        image_alt=image_alt(material.name, plain),
    )
