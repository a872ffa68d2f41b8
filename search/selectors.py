"""Reads of the catalog for search answers and the materials API."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from django.db.models import Prefetch, QuerySet

from access.media import media_url  # noqa: F401 - the results' and the pages' URLs
from analysis.models import Embedding, EmbeddingKind, VisualAnalysis
from analysis.read_model import analysis_not_rejected, embedding_of_kind
from materials.models import PRIMARY_FIRST, Catalog, Material, MaterialImage
from search.database import connection
from search.errors import SearchError
from search.models import MaterialFacets
from search.prepared import Statement, prepared_execute

_MATERIAL = Material._meta.db_table
_CATALOG = Catalog._meta.db_table
_IMAGE = MaterialImage._meta.db_table
_ANALYSIS = VisualAnalysis._meta.db_table
_EMBEDDING = Embedding._meta.db_table
_FACETS = MaterialFacets._meta.db_table


def _with_images(queryset: QuerySet[Material]) -> QuerySet[Material]:
    return queryset.select_related("catalog").prefetch_related(
        Prefetch(
            "images",
            queryset=MaterialImage.objects.select_related("analysis").order_by(*PRIMARY_FIRST),
        )
    )


@dataclass(frozen=True)
class ResultMaterial:
    """What a search result shows of a material."""

    material_id: int
    name: str
    category: str
    catalog: str
    thumbnail_url: str | None


# From the search read model (`search.models.MaterialFacets`): one narrow row per material.
_RESULT_SQL = (
    "SELECT material_id, name, category, catalog, thumbnail, image "  # noqa: S608 - table name is a constant
    f"FROM {_FACETS} WHERE material_id = ANY(%s::bigint[])"
)


_RESULTS = Statement("swatch_result_facets", _RESULT_SQL, ("bigint[]",))

# A material's result fields as read: id, name, category, catalog name, and the file names
# of its primary image's thumbnail and image (URLs only for the results shown).
ResultRow = tuple[int, str, str, str, str, str]


def _result_material(row: ResultRow) -> ResultMaterial:
    pk, name, category, catalog, thumbnail, image = row
    return ResultMaterial(
        material_id=pk,
        name=name,
        category=category,
        catalog=catalog,
        thumbnail_url=media_url(thumbnail or image) if (thumbnail or image) else None,
    )


def result_materials_by_id(
    *, ids: Iterable[int], known: Mapping[int, ResultRow] | None = None
) -> dict[int, ResultMaterial]:
    """The result fields of materials, in one query (a search answer's hot path: plain SQL,
    as building the equivalent ORM query cost several times what the database spends), or
    none when `known` rows (read along with something else) cover them all."""
    known = known or {}
    wanted = [int(pk) for pk in ids]
    rows = [known[pk] for pk in wanted if pk in known]
    missing = [pk for pk in wanted if pk not in known]
    if missing:
        with connection.cursor() as cursor:
            prepared_execute(cursor, _RESULTS, [missing])
            rows += cursor.fetchall()
    return {row[0]: _result_material(row) for row in rows}


def material_get(*, material_id: int, hidden_catalogs: tuple[int, ...] = ()) -> Material:
    """A material, or 404 — also when it is in a catalog hidden from the asker."""
    found = Material.objects.filter(pk=material_id).exclude(catalog_id__in=hidden_catalogs)
    material = _with_images(found).first()
    if material is None:
        raise SearchError(
            "not_found", f"No material with id {material_id}.", field="material_id", status=404
        )
    return material


_VISIBLE = Statement(
    "swatch_material_visible",
    f"SELECT 1 FROM {_MATERIAL} WHERE id = %s AND NOT (catalog_id = ANY(%s))",  # noqa: S608
    ("bigint", "bigint[]"),
)


def material_visible_require(*, material_id: int, hidden_catalogs: tuple[int, ...] = ()) -> None:
    """`material_get`'s 404 without reading the material: a search by material id checks it
    before counting the request, and the search reads what it needs itself (a prepared
    statement: the ORM's `exists()` cost three times the query on every API search)."""
    with connection.cursor() as cursor:
        prepared_execute(cursor, _VISIBLE, [material_id, list(hidden_catalogs)])
        found = cursor.fetchone() is not None
    if not found:
        raise SearchError(
            "not_found", f"No material with id {material_id}.", field="material_id", status=404
        )


def material_list(
    *,
    catalog: str | None = None,
    category: str | None = None,
    material_type: str | None = None,
    text: str | None = None,
    hidden_catalogs: tuple[int, ...] = (),
) -> QuerySet[Material]:
    """Materials, filtered; `catalog` is an id or a name; none of a hidden catalog."""
    queryset = Material.objects.exclude(catalog_id__in=hidden_catalogs)
    if catalog:
        key = "catalog_id" if catalog.isdigit() else "catalog__name"
        queryset = queryset.filter(**{key: catalog})
    if category:
        queryset = queryset.filter(category__iexact=category)
    if material_type:
        queryset = queryset.filter(images__analysis__material_type=material_type.lower())
    if text:
        queryset = queryset.filter(name__icontains=text)
    return _with_images(queryset.distinct().order_by("name", "id"))


def material_thumbnail_name(material: Material) -> str | None:
    """The stored name of the primary image's thumbnail, else of the image."""
    image = material.primary_image
    if image is None:
        return None
    field = image.thumbnail or image.image
    return field.name if field else None


def material_analysis(material: Material) -> VisualAnalysis | None:
    image = material.primary_image
    if image is None:
        return None
    try:
        return image.analysis
    except VisualAnalysis.DoesNotExist:
        return None


@dataclass(frozen=True)
class MaterialQueryInputs:
    """What a "more like this" query takes from its material: the description, and the
    stored vectors of its primary image (else its first image that has them) — their
    embeddings' ids always, their values when asked for."""

    description: dict
    image_vector: np.ndarray | None = None
    text_vector: np.ndarray | None = None
    image_embedding_id: int | None = None
    text_embedding_id: int | None = None


def _stored_vector_sql(kind: str) -> str:
    # The embedding's id, and its value in pgvector's binary form (`vector_send`: no float
    # formatting on the server, no parsing of ~10 characters a dimension here) when a second
    # model parameter asks for it.
    return (
        f"(SELECT e.id FROM {_EMBEDDING} e WHERE e.image_id = mi.id "  # noqa: S608 - constants
        f"AND e.model = %s AND {embedding_of_kind('e', kind)}), "
        f"(SELECT vector_send(e.vector) FROM {_EMBEDDING} e WHERE e.image_id = mi.id "
        f"AND e.model = %s AND {embedding_of_kind('e', kind)})"
    )


# One row per image, primary first: the description is the first image's; each vector the
# first image's that has one. A plain join with two key lookups per row: less to plan than
# one subquery per value, which cost more than running them.
_QUERY_INPUTS_SQL = (
    "SELECT mi.id, va.description, "  # noqa: S608 - constants
    f"{_stored_vector_sql(EmbeddingKind.IMAGE.value)}, "
    f"{_stored_vector_sql(EmbeddingKind.DESCRIPTION.value)} "
    f"FROM {_MATERIAL} m LEFT JOIN {_IMAGE} mi ON mi.material_id = m.id "
    f"LEFT JOIN {_ANALYSIS} va ON va.image_id = mi.id AND {analysis_not_rejected('va')} "
    "WHERE m.id = %s ORDER BY mi.is_primary DESC, mi.id"
)


_QUERY_INPUTS = Statement(
    "swatch_query_inputs_v2", _QUERY_INPUTS_SQL, ("text", "text", "text", "text", "bigint")
)


def vector_from_binary(data: bytes | memoryview) -> np.ndarray:
    """A vector from pgvector's binary form: dimensions (int16), unused (int16), then the
    big-endian float32 values."""
    return np.frombuffer(data, dtype=">f4", offset=4).astype(np.float32)


def _first_stored(rows: list[tuple], column: int) -> tuple[int | None, np.ndarray | None]:
    """The first image's embedding (id, value) in a pair of columns of the inputs' rows."""
    for row in rows:
        if row[column] is not None:
            data = row[column + 1]
            return row[column], None if data is None else vector_from_binary(data)
    return None, None


def material_query_inputs(
    *,
    material_id: int,
    image_model: str = "",
    text_model: str = "",
    image_values: bool = True,
    text_values: bool = True,
) -> MaterialQueryInputs | None:
    """A material's description and its stored image (`image_model`) and description
    (`text_model`) embeddings, in one round trip; a model left empty gives none, and
    `*_values=False` only the embedding's id (for a search by reference, without sending the
    vector here and back). None when there is no such material."""
    params = [
        image_model, image_model if image_values else "",
        text_model, text_model if text_values else "", material_id,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        prepared_execute(cursor, _QUERY_INPUTS, params)
        rows = cursor.fetchall()
    if not rows:
        return None
    description = rows[0][1]
    if isinstance(description, str):  # Django hands jsonb to raw cursors as text
        description = json.loads(description)
    image_id, image_vector = _first_stored(rows, 2)
    text_id, text_vector = _first_stored(rows, 4)
    return MaterialQueryInputs(
        description=dict(description) if description else {},
        image_vector=image_vector,
        text_vector=text_vector,
        image_embedding_id=image_id,
        text_embedding_id=text_id,
    )
