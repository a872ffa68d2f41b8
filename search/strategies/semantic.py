"""Semantic strategy: text embeddings of the catalog's descriptions, plus Postgres full-text
ranking over the description text, the material's name and its category.

Score = cosine similarity of the description embedding + `FTS_WEIGHT` × the full-text rank
normalised by the best rank of the query; a material found only by words still counts.
"""

from __future__ import annotations

from collections.abc import Iterable

from search.database import connection
from search.fusion import Hit
from search.query import SearchFilters
from search.strategies.sql import MATERIAL, MATERIAL_JOINS, filters_where
from search.strategies.vector import FacetRow, QueryVector, vector_search_with_rows

FTS_WEIGHT = 0.5
# MiniLM puts paraphrases above ~0.6 and unrelated sentences near 0.1–0.3.
GOOD_SIMILARITY = 0.6
DOCUMENT = (
    "to_tsvector('english', concat_ws(' ', m.name, m.category, va.material_type, "
    "va.description->>'finish', va.description->>'pattern', "
    "jsonb_path_query_array(va.description, '$.colors[*].name')::text, "
    "va.description->>'summary', (va.description->'properties')::text))"
)


def fulltext_search(
    *, text: str, filters: SearchFilters, limit: int, exclude_material_ids: Iterable[int] = ()
) -> list[tuple[int, float]]:
    """(material id, ts_rank_cd) for materials any word of `text` matches, best first."""
    where, params = filters_where(filters)
    excluded = list(exclude_material_ids)
    # Any word may match (OR), ranked by how many and how close: a search box, not a filter.
    query = "replace(plainto_tsquery('english', %s)::text, '&', '|')::tsquery"
    conditions = " AND ".join([f"{DOCUMENT} @@ q.query", "NOT (m.id = ANY(%s))", *where])
    sql = (
        f"SELECT m.id, max(ts_rank_cd({DOCUMENT}, q.query)) AS rank "  # noqa: S608 - constants; values are parameters
        f"FROM {MATERIAL} m {MATERIAL_JOINS} CROSS JOIN (SELECT {query} AS query) q "
        f"WHERE {conditions} GROUP BY m.id ORDER BY rank DESC, m.id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [text, excluded, *params, limit])
        return [(material_id, float(rank)) for material_id, rank in cursor.fetchall()]


def semantic_search_with_rows(
    *,
    vector: QueryVector | None,
    model: str,
    dimensions: int,
    text: str,
    filters: SearchFilters,
    limit: int,
    ef_search: int = 100,
    max_scan_tuples: int = 20000,
    exact_scan_max_rows: int = 20000,
    exclude_material_ids: Iterable[int] = (),
    rows_of_best: int | None = None,
    read_rows: bool = True,
) -> tuple[list[Hit], dict[int, FacetRow]]:
    """The materials whose descriptions are nearest to `vector` and match `text`'s words,
    best first; and the read-model rows of the description-vector hits (`rows_of_best`,
    `read_rows`: as for `vector_search_with_rows`)."""
    excluded = list(exclude_material_ids)
    similarity: dict[int, float] = {}
    rows: dict[int, FacetRow] = {}
    if vector is not None:
        nearest, rows = vector_search_with_rows(
            vector=vector,
            model=model,
            dimensions=dimensions,
            kind="description",
            filters=filters,
            limit=limit,
            threshold=GOOD_SIMILARITY,
            ef_search=ef_search,
            max_scan_tuples=max_scan_tuples,
            exact_scan_max_rows=exact_scan_max_rows,
            exclude_material_ids=excluded,
            rows_of_best=rows_of_best,
            read_rows=read_rows,
        )
        similarity = {hit.material_id: hit.score for hit in nearest}
    words: dict[int, float] = {}
    if text.strip():
        ranks = fulltext_search(
            text=text, filters=filters, limit=limit, exclude_material_ids=excluded
        )
        best = max((rank for _, rank in ranks), default=0.0)
        words = {mid: rank / best for mid, rank in ranks if best > 0}
    hits = [
        Hit(
            material_id=material_id,
            score=similarity.get(material_id, 0.0) + FTS_WEIGHT * words.get(material_id, 0.0),
            good=similarity.get(material_id, 0.0) >= GOOD_SIMILARITY or material_id in words,
            details={
                "similarity": round(similarity[material_id], 4)
                if material_id in similarity
                else None,
                "text_rank": round(words[material_id], 4) if material_id in words else None,
            },
        )
        for material_id in set(similarity) | set(words)
    ]
    return sorted(hits, key=lambda h: (-h.score, h.material_id))[:limit], rows


def semantic_search(**search) -> list[Hit]:
    """`semantic_search_with_rows`'s hits, without reading any read-model row."""
    return semantic_search_with_rows(**search, read_rows=False)[0]
