"""Vector strategy: cosine nearest neighbours over the image embeddings of one model.

Queries repeat the partial HNSW index's expression and predicate
(`analysis.vector_indexes.VectorIndex`) so Postgres uses it. With filters, the plan follows
the filter's selectivity (DESIGN.md, "Vectors in Postgres, measured here"): a filter that keeps
few rows is answered by an exact scan of exactly those rows (recall 1.0); a broad one by an
iterative index scan (`hnsw.iterative_scan = relaxed_order`), which keeps walking the graph
until `limit` rows pass the filter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np
from django.db import transaction

from analysis.read_model import analysis_rejected
from analysis.vector_indexes import VectorIndex
from search.database import connection
from search.fusion import Hit
from search.query import SearchFilters
from search.selectors import ResultRow
from search.strategies.sql import (
    ANALYSIS,
    EMBEDDING,
    FACETS,
    IMAGE,
    JOINS,
    filters_where,
    qualified_predicate,
    vector_index,
    vector_literal,
)

# The image `mi`'s description is not one a curator rejected.
NOT_REJECTED = (
    f"NOT EXISTS (SELECT 1 FROM {ANALYSIS} vr WHERE vr.image_id = mi.id "  # noqa: S608 - constant table name
    f"AND {analysis_rejected('vr')})"
)
# Over-fetch images: a material with several images counts once, by its best one.
IMAGE_OVERFETCH = 2
# The semantic strategy fetches as many descriptions as it wants materials: a material
# described by several images may then come back fewer times than that, which a weaker,
# cross-checking signal can afford; an over-fetch would double its index walk.
DESCRIPTION_OVERFETCH = 1

HNSW_EF_SEARCH_MAX = 1000  # the largest hnsw.ef_search pgvector accepts


# A hit's row of the search read model (`search.models.MaterialFacets`), read in the same
# statement as an unfiltered search: its category, the compared fields of its description
# as JSON text (parsed only by the strategy that compares them) and its result row.
FacetRow = tuple[str, str | None, ResultRow]
# A strategy search that returns its hits and the read-model rows it read along.
SearchWithRows = Callable[..., tuple[list[Hit], dict[int, FacetRow]]]


@dataclass(frozen=True)
class StoredVector:
    """A query vector that is a stored embedding as it is (a "more like this" with nothing to
    add or subtract): the query reads it by id, instead of the vector going out of the
    database, through Python, and back in as text."""

    embedding_id: int


QueryVector = np.ndarray | StoredVector


def _query_vector_sql(vector: QueryVector) -> tuple[str, object]:
    """The SQL expression of the query vector (to be cast) and its parameter."""
    if isinstance(vector, StoredVector):
        return f"(SELECT vector FROM {EMBEDDING} WHERE id = %s)", vector.embedding_id  # noqa: S608 - constant table
    return "%s", vector_literal(vector)


@dataclass(frozen=True)
class VectorPlan:
    mode: str  # "index", "iterative" or "exact"
    filtered_rows: int | None = None


def _set_local(cursor, *, ef_search: int, iterative: bool, max_scan_tuples: int) -> None:
    cursor.execute(f"SET LOCAL hnsw.ef_search = {int(ef_search)}")
    if iterative:
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute(f"SET LOCAL hnsw.max_scan_tuples = {int(max_scan_tuples)}")


def _session_ef_search(cursor, ef_search: int) -> None:
    """`hnsw.ef_search` for this connection's session, set only when it changes.

    An unfiltered query needs no other setting, so outside a transaction it runs on its own:
    one round trip instead of four (BEGIN, SET LOCAL, query, COMMIT), which is most of what
    the service adds to the pgvector query (see `bench_search`). Only in autocommit mode: a
    session SET inside a transaction would be undone by a rollback, unseen by this record.
    """
    raw = connection.connection
    if getattr(raw, "_swatch_ef_search", None) != ef_search:
        cursor.execute(f"SET hnsw.ef_search = {int(ef_search)}")
        raw._swatch_ef_search = ef_search


def vector_plan(
    *, model: str, kind: str, dimensions: int, filters: SearchFilters, exact_scan_max_rows: int
) -> VectorPlan:
    if filters.empty:
        return VectorPlan(mode="index")
    index = vector_index(model=model, kind=kind, dimensions=dimensions)
    where, params = filters_where(filters)
    conditions = " AND ".join([qualified_predicate(index), *where])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {EMBEDDING} e {JOINS} "  # noqa: S608 - literals are checked, values are parameters
            f"WHERE {conditions} LIMIT %s) kept",
            [*params, exact_scan_max_rows + 1],
        )
        kept = cursor.fetchone()[0]
    mode = "exact" if kept <= exact_scan_max_rows else "iterative"
    return VectorPlan(mode=mode, filtered_rows=kept)


def vector_sql(
    *, plan: VectorPlan, index: VectorIndex, vector: QueryVector, filters: SearchFilters, fetch: int
) -> tuple[str, list]:
    """The SQL of a plan: (material id, cosine distance) rows, nearest first."""
    expression, query = _query_vector_sql(vector)
    cast, column = index.cast(expression), index.cast("e.vector")
    where, params = filters_where(filters)
    predicate = qualified_predicate(index)
    # A description a curator rejected no longer speaks for its material: nor does its
    # embedding (outside the index's predicate, so that the index still serves).
    not_rejected = [NOT_REJECTED] if index.kind == "description" else []
    if plan.mode == "index":
        sql = (
            "SELECT mi.material_id, nn.distance FROM ("  # noqa: S608 - literals are checked, values are parameters
            f"SELECT e.image_id, {column} <=> {cast} AS distance "
            f"FROM {EMBEDDING} e WHERE {predicate} "
            f"ORDER BY {column} <=> {cast} LIMIT %s"
            f") nn JOIN {IMAGE} mi ON mi.id = nn.image_id "
            f"{'WHERE ' + not_rejected[0] if not_rejected else ''} ORDER BY nn.distance"
        )
        args = [query, query, fetch]
    elif plan.mode == "iterative":
        # relaxed_order may return rows slightly out of order: sort them again outside.
        sql = (
            "WITH nn AS MATERIALIZED ("  # noqa: S608 - literals are checked, values are parameters
            f"SELECT m.id AS material_id, {column} <=> {cast} "
            f"AS distance FROM {EMBEDDING} e {JOINS} "
            f"WHERE {' AND '.join([predicate, *where, *not_rejected])} "
            f"ORDER BY {column} <=> {cast} LIMIT %s"
            ") SELECT material_id, distance FROM nn ORDER BY distance"
        )
        args = [query, *params, query, fetch]
    else:
        # Without the cast the expression index cannot serve: an exact scan of the kept rows.
        sql = (
            f"SELECT m.id, e.vector <=> {expression}::vector AS distance "  # noqa: S608 - literals are checked, values are parameters
            f"FROM {EMBEDDING} e {JOINS} "
            f"WHERE {' AND '.join([predicate, *where, *not_rejected])} "
            "ORDER BY distance LIMIT %s"
        )
        args = [query, *params, fetch]
    return sql, args


def _with_facets_sql(nearest: str) -> str:
    """`nearest` (a plan's SQL) narrowed in the database to the `limit` best materials not
    excluded (a material counts once, by its best row), the first few of them with their
    read-model row: what the strategies would otherwise read by a second statement, after a
    second wait. Only those few: in a large catalog each row read is a page to fetch (a NULL
    key looks nothing up)."""
    return (
        f"WITH nn AS MATERIALIZED ({nearest}), best AS (SELECT material_id, "  # noqa: S608 - constants; values are parameters
        "min(distance) AS distance, row_number() OVER (ORDER BY min(distance), material_id) "
        "AS place FROM nn WHERE material_id <> ALL(%s::bigint[]) "
        "GROUP BY material_id ORDER BY 2, 1 LIMIT %s) "
        "SELECT b.material_id, b.distance, f.category, f.compared::text, f.name, f.catalog, "
        f"f.thumbnail, f.image FROM best b LEFT JOIN {FACETS} f "
        "ON f.material_id = CASE WHEN b.place <= %s THEN b.material_id END "
        "ORDER BY b.distance, b.material_id"
    )


def _fetched(*, plan: VectorPlan, sql: str, args: list, ef_search: int, max_scan_tuples: int):
    """The rows of a plan's SQL, under its index-search settings."""
    if plan.mode == "index" and connection.get_autocommit():
        with connection.cursor() as cursor:
            _session_ef_search(cursor, ef_search)
            cursor.execute(sql, args)
            return cursor.fetchall()
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        _set_local(
            cursor,
            ef_search=ef_search,
            iterative=plan.mode == "iterative",
            max_scan_tuples=max_scan_tuples,
        )
        cursor.execute(sql, args)
        return cursor.fetchall()


def _facet_row(material_id: int, row: tuple) -> FacetRow:
    category, compared, name, catalog, thumbnail, image = row[2:]
    return (category or "", compared, (material_id, name, category, catalog, thumbnail, image))


def _hits(
    found: list[tuple], *, plan: VectorPlan, limit: int, threshold: float, excluded: set[int]
) -> tuple[list[Hit], dict[int, FacetRow]]:
    """The first `limit` materials of the rows, once each, and the read-model rows read along."""
    hits: list[Hit] = []
    rows: dict[int, FacetRow] = {}
    seen: set[int] = set()
    for row in found:
        material_id, distance = row[0], row[1]
        if material_id in seen or material_id in excluded:
            continue
        seen.add(material_id)
        if len(row) > 2 and row[4] is not None:  # a row of `_with_facets_sql`, with its facets
            rows[material_id] = _facet_row(material_id, row)
        similarity = 1.0 - float(distance)
        hits.append(
            Hit(
                material_id=material_id,
                score=similarity,
                good=similarity >= threshold,
                details={"plan": plan.mode},
            )
        )
        if len(hits) == limit:
            break
    return _lead_marked(hits), rows


def _lead_marked(hits: list[Hit]) -> list[Hit]:
    """The first hit with its `lead`: its similarity minus the second's. A first hit far ahead
    of the rest is, far more often, of the query's own material (evidence for relevance,
    search/relevance/combine.py) than one among equals."""
    if len(hits) < 2:
        return hits
    first = hits[0]
    lead = round(first.score - hits[1].score, 6)
    return [replace(first, details={**first.details, "lead": lead}), *hits[1:]]


def vector_search_with_rows(
    *,
    vector: QueryVector,
    model: str,
    dimensions: int,
    filters: SearchFilters,
    limit: int,
    threshold: float,
    ef_search: int = 100,
    max_scan_tuples: int = 20000,
    exact_scan_max_rows: int = 20000,
    exclude_material_ids: Iterable[int] = (),
    kind: str = "image",
    rows_of_best: int | None = None,
    read_rows: bool = True,
) -> tuple[list[Hit], dict[int, FacetRow]]:
    """The `limit` materials nearest to `vector` (cosine), best first; `good` when the
    similarity reaches `threshold`; and the read-model rows of its hits (of the first
    `rows_of_best` only, when given), read in the same statement by an unfiltered search. A
    filtered one reads none (with filters a result shows the first image that passes them,
    which the read model does not know), nor does one with `read_rows` off."""
    index = vector_index(model=model, kind=kind, dimensions=dimensions)
    excluded = set(exclude_material_ids)
    plan = vector_plan(
        model=model,
        kind=kind,
        dimensions=dimensions,
        filters=filters,
        exact_scan_max_rows=exact_scan_max_rows,
    )
    overfetch = IMAGE_OVERFETCH if kind == "image" else DESCRIPTION_OVERFETCH
    fetch = limit * overfetch + len(excluded)
    sql, args = vector_sql(plan=plan, index=index, vector=vector, filters=filters, fetch=fetch)
    if read_rows and plan.mode == "index":
        best = limit if rows_of_best is None else rows_of_best
        sql, args = _with_facets_sql(sql), [*args, list(excluded), limit, best]
    found = _fetched(
        plan=plan,
        sql=sql,
        args=args,
        ef_search=min(max(ef_search, fetch), HNSW_EF_SEARCH_MAX),  # pgvector refuses more
        max_scan_tuples=max_scan_tuples,
    )
    return _hits(found, plan=plan, limit=limit, threshold=threshold, excluded=excluded)


def vector_search(**search) -> list[Hit]:
    """`vector_search_with_rows`'s hits, without reading any read-model row."""
    return vector_search_with_rows(**search, read_rows=False)[0]
