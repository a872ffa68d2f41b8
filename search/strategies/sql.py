"""SQL shared by the strategies: the tables, the joins, and filters compiled to a WHERE clause.

Aliases everywhere: `e` embedding, `mi` material image, `m` material, `va` visual analysis.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from analysis.read_model import (
    ANALYSIS_TABLE,
    EMBEDDING_KINDS,
    EMBEDDING_TABLE,
    analysis_not_rejected,
)
from analysis.vector_indexes import VectorIndex, configured_method
from materials.models import Catalog, Material, MaterialImage
from search.errors import SearchError
from search.models import MaterialFacets
from search.query import SearchFilters

EMBEDDING = EMBEDDING_TABLE
ANALYSIS = ANALYSIS_TABLE
IMAGE = MaterialImage._meta.db_table
MATERIAL = Material._meta.db_table
CATALOG = Catalog._meta.db_table
FACETS = MaterialFacets._meta.db_table

# A description a curator rejected is as good as none: filters, properties and full text
# do not see it (the material itself, and its image vector, stay searchable).
ANALYSIS_JOIN = f"LEFT JOIN {ANALYSIS} va ON va.image_id = mi.id AND {analysis_not_rejected('va')}"
JOINS = (
    f"JOIN {IMAGE} mi ON mi.id = e.image_id "
    f"JOIN {MATERIAL} m ON m.id = mi.material_id {ANALYSIS_JOIN}"
)
MATERIAL_JOINS = f"JOIN {IMAGE} mi ON mi.material_id = m.id {ANALYSIS_JOIN}"
# Model names go into SQL as literals (a partial index is used only when the query repeats
# its predicate verbatim), so they are held to a safe alphabet.
_MODEL_NAME = re.compile(r"^[A-Za-z0-9._/-]{1,100}$")


def vector_index(*, model: str, kind: str, dimensions: int) -> VectorIndex:
    if not _MODEL_NAME.match(model) or kind not in EMBEDDING_KINDS:
        raise SearchError("invalid_model", f"Unusable model name {model!r}.", status=500)
    return VectorIndex(
        model=model, kind=kind, dimensions=int(dimensions), method=configured_method()
    )


def qualified_predicate(index: VectorIndex) -> str:
    """The index's predicate on the `e` alias (the planner matches it all the same)."""
    return f"e.model = '{index.model}' AND e.kind = '{index.kind}'"


def vector_literal(vector: np.ndarray) -> str:
    values = np.asarray(vector, dtype=np.float64).ravel().tolist()
    # One C-level format for the whole vector: a per-float f-string was ~1 ms at 1704-d.
    return "[" + ",".join(["%.7g"] * len(values)) % tuple(values) + "]"


def filters_where(filters: SearchFilters) -> tuple[list[str], list[Any]]:
    """The filters as SQL conditions over `m`, `mi`, `va` (AND-ed) and their parameters."""
    where: list[str] = []
    params: list[Any] = []
    if filters.hidden_catalog_ids:
        where.append("m.catalog_id <> ALL(%s)")
        params.append(list(filters.hidden_catalog_ids))
    if filters.catalog_ids or filters.catalog_names:
        where.append(
            "(m.catalog_id = ANY(%s) OR m.catalog_id IN "  # noqa: S608 - CATALOG is a constant
            f"(SELECT id FROM {CATALOG} WHERE name = ANY(%s)))"
        )
        params += [list(filters.catalog_ids), list(filters.catalog_names)]
    if filters.categories:
        where.append("lower(m.category) = ANY(%s)")
        params.append(list(filters.categories))
    if filters.material_types:
        where.append("va.material_type = ANY(%s)")
        params.append(list(filters.material_types))
    for names in filters.color_names:
        # Containment, so the GIN index on the description can serve it.
        where.append("(" + " OR ".join(["va.description @> %s::jsonb"] * len(names)) + ")")
        params += [json.dumps({"colors": [{"name": name}]}) for name in names]
    if filters.finishes:
        where.append("va.description->>'finish' = ANY(%s)")
        params.append(list(filters.finishes))
    if filters.patterns:
        where.append("va.description->>'pattern' = ANY(%s)")
        params.append(list(filters.patterns))
    if filters.min_confidence is not None:
        where.append("va.confidence >= %s")
        params.append(filters.min_confidence)
    if filters.properties:
        where.append("va.description @> %s::jsonb")
        params.append(json.dumps(filters.properties))
    if filters.attributes:
        where.append("m.attributes @> %s::jsonb")
        params.append(json.dumps(filters.attributes))
    return where, params
