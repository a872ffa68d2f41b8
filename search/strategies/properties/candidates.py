"""The materials the properties strategy scores, read in one query (two when the type sample
is needed): JSONB containment for the hard filters (`search.strategies.sql.filters_where`), and
only the fields the scoring compares, plus each material's result row."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from search.database import connection
from search.prepared import Statement, prepared_execute
from search.query import SearchFilters
from search.selectors import ResultRow
from search.strategies.sql import (
    ANALYSIS,
    CATALOG,
    FACETS,
    IMAGE,
    MATERIAL,
    MATERIAL_JOINS,
    filters_where,
)
from search.strategies.vector import FacetRow

# Materials of the query's type fetched besides the other strategies' candidates (per source:
# the analysis's type, the catalog's category), when those hold too few of the type (a text
# query, a small catalog). Sampled before the filters apply, so a filtered search (an
# evaluation's own catalog) needs room for other catalogs' materials of the type.
TYPE_CANDIDATES = 300


# Only the fields `description_similarity` reads: a fraction of a stored description to send
# and to parse for each of the few hundred candidates.
_COMPARED = (
    "jsonb_build_object('material_type', va.description->'material_type', "
    "'colors', va.description->'colors', 'finish', va.description->'finish', "
    "'pattern', va.description->'pattern', 'texture', va.description->'texture')"
)


# The candidates' ids: the other strategies' hits, plus a bounded sample of the query's type
# (by the analysis, and by the catalog's own category).
_IDS_SQL = (
    "SELECT unnest(%s::bigint[]) AS id UNION "  # noqa: S608 - constants
    f"(SELECT mi2.material_id FROM (SELECT image_id FROM {ANALYSIS} WHERE material_type = %s "
    f"LIMIT %s) va2 JOIN {IMAGE} mi2 ON mi2.id = va2.image_id) UNION "
    f"(SELECT id FROM {MATERIAL} WHERE lower(category) = %s LIMIT %s)"
)


def _candidates_sql(where: list[str]) -> str:
    """The candidates' rows: their ids first (the other strategies' hits, plus a bounded
    sample of the query's type, by the analysis or by the catalog's own category), then their
    rows, as an `OR IN` over the whole material table would scan all of it. The exclusion
    applies to the ids, so each row is read by its key rather than by a scan of every
    material."""
    conditions = ["ids.id <> ALL(%s::bigint[])", *where]
    return (
        f"WITH ids AS ({_IDS_SQL}) SELECT DISTINCT ON (m.id) m.id, m.category, {_COMPARED}, "  # noqa: S608 - constants; values are parameters
        "m.name, c.name, mi.thumbnail, mi.image "
        f"FROM ids JOIN {MATERIAL} m ON m.id = ids.id {MATERIAL_JOINS} "
        f"LEFT JOIN {CATALOG} c ON c.id = m.catalog_id "
        f"WHERE {' AND '.join(conditions)} ORDER BY m.id, mi.is_primary DESC, mi.id"
    )


def _unfiltered_candidates_sql() -> str:
    """The same rows without filters, from the search read model (`search.models`): one narrow
    row per material instead of four lookups."""
    return (
        f"WITH ids AS ({_IDS_SQL}) SELECT f.material_id, f.category, f.compared, "  # noqa: S608 - constants; values are parameters
        f"f.name, f.catalog, f.thumbnail, f.image FROM ids JOIN {FACETS} f "
        "ON f.material_id = ids.id WHERE ids.id <> ALL(%s::bigint[])"
    )


_UNFILTERED = Statement(
    "swatch_candidate_facets",
    _unfiltered_candidates_sql(),
    ("bigint[]", "text", "bigint", "text", "bigint", "bigint[]"),
)


@dataclass(frozen=True)
class PropertiesCandidate:
    """A material to score: its category, the compared fields of its description, and (for an
    unfiltered search) its result row, so the answer needs no query of its own for it."""

    material_id: int
    category: str
    compared: dict[str, Any]
    result: ResultRow | None = None


def properties_candidates(
    *,
    description: Mapping[str, Any],
    filters: SearchFilters,
    candidate_ids: Iterable[int] = (),
    exclude_material_ids: Iterable[int] = (),
    of_type_enough: int = 0,
    known: Mapping[int, PropertiesCandidate] | None = None,
) -> list[PropertiesCandidate]:
    """The materials to score, all under the hard filters: the other strategies' candidates
    plus a sample of the query's type. With `of_type_enough`, the sample is read (by a second
    query) only when the candidates hold fewer materials of the query's type than that: a
    "more like this" in a large catalog has plenty, and each sampled row costs a read.
    `known`: candidates already read (`properties_candidates_of`), not read again."""
    if not description:
        return []
    query_type = description.get("material_type") or ""
    sample = TYPE_CANDIDATES if query_type else 0
    excluded = [int(pk) for pk in exclude_material_ids]
    known = known or {}
    ids = list(dict.fromkeys(candidate_ids))
    have = [known[pk] for pk in ids if pk in known and pk not in excluded]
    missing = [pk for pk in ids if pk not in known]
    if not of_type_enough or not sample:
        return have + _candidate_rows(filters, missing, query_type, sample, excluded)
    found = have + (_candidate_rows(filters, missing, query_type, 0, excluded) if missing else [])
    of_type = sum(
        query_type in (c.compared.get("material_type"), c.category.strip().lower()) for c in found
    )
    if of_type < of_type_enough:
        seen = excluded + [c.material_id for c in found]
        found += _candidate_rows(filters, [], query_type, sample, seen)
    return found


def candidates_from_facets(rows: Mapping[int, FacetRow]) -> dict[int, PropertiesCandidate]:
    """The candidates of read-model rows a vector search read along (`vector_search(rows=…)`)."""
    return {
        pk: PropertiesCandidate(
            material_id=pk, category=category, compared=_loaded(compared), result=result
        )
        for pk, (category, compared, result) in rows.items()
    }


def properties_candidates_of(
    *, material_ids: Iterable[int], filters: SearchFilters
) -> dict[int, PropertiesCandidate]:
    """The candidate rows of some materials (a strategy's hits, read right after its search,
    side by side with the other strategies), by material id."""
    ids = list(dict.fromkeys(int(pk) for pk in material_ids))
    if not ids:
        return {}
    return {c.material_id: c for c in _candidate_rows(filters, ids, "", 0, [])}


def _candidate_rows(
    filters: SearchFilters, ids: list[int], query_type: str, sample: int, excluded: list[int]
) -> list[PropertiesCandidate]:
    where, params = filters_where(filters)
    args = [ids, query_type, sample, query_type, sample, excluded, *params]
    with connection.cursor() as cursor:
        if filters.empty:  # the statement of every unfiltered search: prepared
            prepared_execute(cursor, _UNFILTERED, args)
        else:
            cursor.execute(_candidates_sql(where), args)
        rows = cursor.fetchall()
    # With filters, the row's image is the first one that passes them, which need not be the
    # primary image a result shows: then the answer reads its result rows itself.
    return [
        PropertiesCandidate(
            material_id=pk,
            category=category or "",
            compared=_loaded(compared),
            result=(pk, name, category, catalog, thumbnail, image) if filters.empty else None,
        )
        for pk, category, compared, name, catalog, thumbnail, image in rows
    ]


def _loaded(compared: object) -> dict[str, Any]:
    """The compared fields of a row (no analysis: all null), without the nulls."""
    value = json.loads(compared) if isinstance(compared, str) else (compared or {})
    return {key: item for key, item in value.items() if item is not None}
