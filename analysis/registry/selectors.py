"""Reads of the registry: which model serves a kind, and how much of a catalog it covers."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from analysis.embedding_models import EmbeddingModel
from analysis.models import Embedding, VisualAnalysis
from materials.models import Catalog, MaterialImage

# The analyses whose description a description model embeds.
DESCRIBED_STATUSES = ("completed", "needs_review", "approved")


class UnknownModel(LookupError):
    pass


def model_get(*, name: str, kind: str | None = None) -> EmbeddingModel:
    """The registered model `name` (of `kind`, needed when the name serves two kinds)."""
    rows = list(EmbeddingModel.objects.filter(name=name, **({"kind": kind} if kind else {})))
    if not rows:
        raise UnknownModel(f"no embedding model {name!r} is registered.")
    if len(rows) > 1:
        kinds = ", ".join(sorted(r.kind for r in rows))
        raise UnknownModel(f"{name!r} is registered for {kinds}: name the kind.")
    return rows[0]


def active_models() -> dict[str, EmbeddingModel]:
    """The active model of each kind that has one (one query; the switch is one commit)."""
    rows = EmbeddingModel.objects.filter(active=True).select_related("fallback")
    return {row.kind: row for row in rows}


def target_images_sql(kind: str) -> str:
    """SQL selecting (image id, catalog id) of the images a model of `kind` should cover."""
    image = MaterialImage._meta.db_table
    if kind == "image":
        return f"SELECT mi.id AS image_id, mi.catalog_id FROM {image} mi"  # noqa: S608 - constant
    analysis = VisualAnalysis._meta.db_table
    statuses = ", ".join(f"'{s}'" for s in DESCRIBED_STATUSES)
    return (
        f"SELECT mi.id AS image_id, mi.catalog_id FROM {image} mi "  # noqa: S608 - constants
        f"JOIN {analysis} va ON va.image_id = mi.id "
        f"WHERE va.status IN ({statuses}) AND va.description <> '{{}}'::jsonb"
    )


@dataclass(frozen=True)
class CatalogCoverage:
    catalog_id: int
    catalog: str
    covered: int
    total: int

    @property
    def complete(self) -> bool:
        return self.covered >= self.total


def coverage(*, model: EmbeddingModel, catalog: Catalog | None = None) -> list[CatalogCoverage]:
    """Per catalog: the images `model` has a vector of, of those it should have one of."""
    where, params = ("WHERE c.id = %s", [catalog.pk]) if catalog else ("", [])
    sql = (
        f"SELECT c.id, c.name, count(e.id), count(t.image_id) "  # noqa: S608 - constants
        f"FROM {Catalog._meta.db_table} c "
        f"LEFT JOIN ({target_images_sql(model.kind)}) t ON t.catalog_id = c.id "
        f"LEFT JOIN {Embedding._meta.db_table} e ON e.image_id = t.image_id "
        f"AND e.model = %s AND e.kind = %s {where} GROUP BY c.id, c.name ORDER BY c.name"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [model.name, model.kind, *params])
        return [CatalogCoverage(*row) for row in cursor.fetchall()]


def coverage_total(rows: list[CatalogCoverage]) -> tuple[int, int]:
    return sum(r.covered for r in rows), sum(r.total for r in rows)
