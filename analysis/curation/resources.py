"""Storage and compute next to the model cost, for the costs page: per catalog, the database
bytes of its rows (materials, images, analyses, embeddings — `pg_column_size` of each row, so
indexes and free space are not shared out) and the bytes of its media files; and the worker
time of each background task over a period (`TaskRun`, written by `analysis.worker`)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Q, Sum

from analysis.models import Embedding, TaskRun, VisualAnalysis
from materials.models import Catalog, Material, MaterialImage

MEDIA_FIELDS = ("image", "thumbnail", "embedding_input")


@dataclass(frozen=True)
class CatalogStorage:
    catalog: str
    materials: int
    images: int
    database_bytes: int
    media_bytes: int
    media_missing: int  # files the rows name that are not on disk


def _rows_bytes(table: str, join: str, catalog_column: str) -> dict[int, int]:
    # Only model table names and fixed column names reach the text: no input does.
    sql = (
        f"SELECT {catalog_column}, SUM(pg_column_size(t.*))::bigint "  # noqa: S608
        f"FROM {connection.ops.quote_name(table)} t {join} GROUP BY {catalog_column}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return {catalog: int(size or 0) for catalog, size in cursor.fetchall()}


def _database_bytes() -> dict[int, int]:
    image = connection.ops.quote_name(MaterialImage._meta.db_table)
    parts = [
        _rows_bytes(Material._meta.db_table, "", "t.catalog_id"),
        _rows_bytes(image, "", "t.catalog_id"),
        _rows_bytes(
            VisualAnalysis._meta.db_table, f"JOIN {image} i ON i.id = t.image_id", "i.catalog_id"
        ),
        _rows_bytes(
            Embedding._meta.db_table, f"JOIN {image} i ON i.id = t.image_id", "i.catalog_id"
        ),
    ]
    total: dict[int, int] = {}
    for part in parts:
        for catalog, size in part.items():
            total[catalog] = total.get(catalog, 0) + size
    return total


def _media_bytes() -> dict[int, tuple[int, int]]:
    """catalog id → (bytes on disk, files missing)."""
    out: dict[int, tuple[int, int]] = {}
    for row in MaterialImage.objects.values("catalog_id", *MEDIA_FIELDS).iterator():
        size, missing = out.get(row["catalog_id"], (0, 0))
        for name in MEDIA_FIELDS:
            if not row[name]:
                continue
            path = MaterialImage._meta.get_field(name).storage.path(row[name])
            try:
                size += os.stat(path).st_size
            except OSError:
                missing += 1
        out[row["catalog_id"]] = (size, missing)
    return out


def storage_per_catalog() -> list[CatalogStorage]:
    database, media = _database_bytes(), _media_bytes()
    catalogs = Catalog.objects.annotate(
        n_materials=Count("materials", distinct=True), n_images=Count("images", distinct=True)
    ).order_by("name")
    return [
        CatalogStorage(
            catalog=c.name,
            materials=c.n_materials,
            images=c.n_images,
            database_bytes=database.get(c.pk, 0),
            media_bytes=media.get(c.pk, (0, 0))[0],
            media_missing=media.get(c.pk, (0, 0))[1],
        )
        for c in catalogs
    ]


def database_size_bytes() -> int:
    """The whole database on disk (tables, indexes, the queue, the caches)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return int(cursor.fetchone()[0])


def worker_time_per_task(*, since: dt.datetime, until: dt.datetime) -> list[dict]:
    """Per task: runs, failures, wall and CPU seconds (total, and wall per run)."""
    rows = (
        TaskRun.objects.filter(started_at__gte=since, started_at__lt=until)
        .values("task")
        .annotate(
            runs=Count("pk"),
            failures=Count("pk", filter=Q(success=False)),
            wall_seconds=Sum("wall_seconds"),
            cpu_seconds=Sum("cpu_seconds"),
        )
        .order_by("-wall_seconds")
    )
    return [{**row, "wall_per_run": row["wall_seconds"] / row["runs"]} for row in rows]
