"""Reads for the pages: the filter sidebar's choices (what the catalog actually holds) and a
material's detail."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from analysis.colors import NAMED_COLORS
from analysis.models import AnalysisStatus, VisualAnalysis
from materials.models import Catalog, Material
from search.selectors import material_analysis, material_get

# Analyses whose description search may use (failed/pending/rejected ones say nothing).
DESCRIBED = (
    AnalysisStatus.COMPLETED,
    AnalysisStatus.NEEDS_REVIEW,
    AnalysisStatus.APPROVED,
)


@dataclass(frozen=True)
class Facets:
    catalogs: list[tuple[int, str]] = field(default_factory=list)
    material_types: list[str] = field(default_factory=list)
    colors: list[tuple[str, str]] = field(default_factory=list)  # (name, hex)
    finishes: list[str] = field(default_factory=list)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def search_facets() -> Facets:
    """The values present in the catalog, so that no filter offers what cannot match."""
    described = VisualAnalysis.objects.filter(status__in=DESCRIBED)
    material_types = sorted(
        set(described.exclude(material_type="").values_list("material_type", flat=True))
    )
    finishes = sorted(
        set(described.values_list("description__finish", flat=True)) - {None, "", "unknown"}
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c->>'name' FROM material_visual_analysis a, "
            "jsonb_array_elements(CASE WHEN jsonb_typeof(a.description->'colors') = 'array' "
            "THEN a.description->'colors' ELSE '[]'::jsonb END) c "
            "WHERE a.status = ANY(%s)",
            [list(DESCRIBED)],
        )
        names = {row[0] for row in cursor.fetchall() if row[0]}
    colors = [(name, _hex(rgb)) for name, rgb in NAMED_COLORS.items() if name in names]
    return Facets(
        catalogs=list(
            Catalog.objects.filter(materials__isnull=False).distinct().values_list("id", "name")
        ),
        material_types=material_types,
        colors=colors,
        finishes=finishes,
    )


@dataclass(frozen=True)
class MaterialDetail:
    material: Material
    images: list
    analysis: VisualAnalysis | None
    description: dict


def material_detail_get(*, material_id: int) -> MaterialDetail:
    """A material with its images and the analysis of its primary image (`SearchError` 404)."""
    material = material_get(material_id=material_id)
    analysis = material_analysis(material)
    description = dict(analysis.description) if analysis and analysis.description else {}
    return MaterialDetail(
        material=material,
        images=list(material.images.all()),
        analysis=analysis,
        description=description,
    )
