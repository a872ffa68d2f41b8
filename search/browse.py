"""Browsing the catalog by filters alone, and the facet counts beside any search.

A search needs something to compare with (an image, a text, a material); filters alone list the
materials they keep, sorted by name or by how sure the catalog is of their description. Facet
counts say, for each value a filter offers, how many materials the other chosen filters and that
value would keep — the usual faceted-search count, so a value that would give nothing shows 0.
Both use the search's own filter SQL (`search.strategies.sql.filters_where`): a filter means
the same here as in a search.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.db import connection

from analysis.read_model import analysis_curated
from search.query import SearchFilters
from search.selectors import result_materials_by_id
from search.strategies.sql import MATERIAL, MATERIAL_JOINS, filters_where

BROWSE_SORTS = {  # key: (label, ORDER BY)
    "name": ("Name", "lower(m.name), m.id"),
    # Curated (or approved) descriptions first, then the most confident, then by name.
    "confidence": (
        "Best described first",
        f"bool_or({analysis_curated('va')}) DESC NULLS LAST, "
        "max(va.confidence) DESC NULLS LAST, lower(m.name), m.id",
    ),
}
DEFAULT_SORT = "name"
# Which SearchFilters field each facet narrows (the others apply as they are).
FACET_FIELDS = {
    "catalog": "catalog_ids",
    "material_type": "material_types",
    "color": "color_names",
    "finish": "finishes",
}


@dataclass(frozen=True)
class BrowsePage:
    results: list  # search.selectors.ResultMaterial, in order
    total: int
    page: int
    pages: int
    page_size: int
    sort: str

    @property
    def start(self) -> int:
        return (self.page - 1) * self.page_size + 1


def _where(filters: SearchFilters) -> tuple[str, list]:
    where, params = filters_where(filters)
    return (" WHERE " + " AND ".join(where)) if where else "", params


def materials_browse(
    *, filters: SearchFilters, sort: str = DEFAULT_SORT, page: int = 1, page_size: int = 12
) -> BrowsePage:
    """The materials the filters keep (with an image), a page of them in `sort` order."""
    order = BROWSE_SORTS.get(sort, BROWSE_SORTS[DEFAULT_SORT])[1]
    where, params = _where(filters)
    base = f"FROM {MATERIAL} m {MATERIAL_JOINS}{where}"  # noqa: S608 - constants and %s only
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(DISTINCT m.id) {base}", params)  # noqa: S608
        total = int(cursor.fetchone()[0])
        pages = max(1, -(-total // page_size))
        page = min(max(1, page), pages)
        cursor.execute(
            f"SELECT m.id {base} GROUP BY m.id ORDER BY {order} LIMIT %s OFFSET %s",  # noqa: S608
            [*params, page_size, (page - 1) * page_size],
        )
        ids = [row[0] for row in cursor.fetchall()]
    found = result_materials_by_id(ids=ids)
    return BrowsePage(
        results=[found[pk] for pk in ids if pk in found],
        total=total,
        page=page,
        pages=pages,
        page_size=page_size,
        sort=sort if sort in BROWSE_SORTS else DEFAULT_SORT,
    )


def facet_counts(
    *, filters: SearchFilters, values: dict[str, list[tuple[str, SearchFilters]]]
) -> dict[str, dict[str, int]]:
    """For each facet, each value's count of materials under the other filters and it.

    `values[facet]` lists (value, the filter that value stands for); one query per facet, one
    `count(…) FILTER (WHERE …)` per value.
    """
    counts: dict[str, dict[str, int]] = {}
    with connection.cursor() as cursor:
        for facet, options in values.items():
            if not options:
                counts[facet] = {}
                continue
            others = dataclasses.replace(filters, **{FACET_FIELDS[facet]: ()})
            if facet == "catalog":
                others = dataclasses.replace(others, catalog_names=())
            where, params = _where(others)
            columns, column_params = [], []
            for _, option in options:
                conditions, option_params = filters_where(option)
                columns.append(f"count(DISTINCT m.id) FILTER (WHERE {' AND '.join(conditions)})")
                column_params += option_params
            cursor.execute(
                f"SELECT {', '.join(columns)} FROM {MATERIAL} m {MATERIAL_JOINS}{where}",  # noqa: S608
                [*column_params, *params],
            )
            row = cursor.fetchone()
            counts[facet] = {value: int(n) for (value, _), n in zip(options, row, strict=True)}
    return counts
