"""A temporary synthetic catalog for `bench_search`: clustered random vectors, bulk-loaded.

Rows go in with COPY on a connection of their own, and the partial HNSW indexes are built
afterwards: inserting row by row into an indexed table is ~8× slower (DESIGN.md, "Vectors in
Postgres"), and the services' one-material-at-a-time writes would dominate the run. That is why
this module writes the catalog's tables directly instead of going through their services; it is
a benchmark fixture, and `synthetic_catalog_drop` removes every row and index it made.

The vectors live under model names of this run (`bench-<run>`, `bench-text-<run>`) with their
own partial indexes, so the catalog's real indexes are never dropped or rebuilt and a live
search never sees the synthetic rows.

The data: clusters (a material type each) of sub-clusters (a product line: one colour, finish,
pattern) of materials, like a supplier's catalog — image vectors are
`unit(sub + 0.35·noise)` with `sub = unit(cluster + 0.5·noise)`; the description vectors follow
the same tree in a space of their own.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from django.db import connection

from analysis.vector_indexes import METHODS, VectorIndex, configured_method
from materials.models import Catalog
from search.benchmark.synthetic_rows import (
    ANALYSIS,
    EMBEDDING,
    IMAGE,
    MATERIAL,
    TYPES,
    synthetic_description,
    synthetic_rows_copy,
)

IMAGE_DIMENSIONS = 512  # CLIP ViT-B/32, the production image model's size
TEXT_DIMENSIONS = 384  # MiniLM, the offline text model's size
ITEMS_PER_CLUSTER = 1000
ITEMS_PER_SUBCLUSTER = 20
SUBCLUSTER_SPREAD = 0.5
ITEM_SPREAD = 0.35
# An HNSW build stays fast only while its graph fits in `maintenance_work_mem`: ~250 MB for
# 100k 512-d vectors, ~2.5 GB for a million. At least 1 GB, about 3 KB per vector, at most 6 GB.
BUILD_MEMORY_MB_PER_ITEM = 3 / 1024
BUILD_MEMORY_MB = (1024, 6144)
# How long the benchmark's own statements (COPY, CREATE/DROP INDEX, cleanup) wait for a lock
# another session holds on the catalog's tables (a long transaction, an orphaned index build)
# before the run stops and names it, instead of waiting for ever.
LOCK_TIMEOUT_SECONDS = 120
CATALOG_PREFIX = "bench-search-"
CATALOG = Catalog._meta.db_table


def build_memory(items: int) -> str:
    low, high = BUILD_MEMORY_MB
    return f"{int(min(high, max(low, items * BUILD_MEMORY_MB_PER_ITEM)))}MB"


@dataclass
class SyntheticCatalog:
    run: str
    catalog_id: int | None = None
    material_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    image_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, IMAGE_DIMENSIONS)))
    indexes: list[VectorIndex] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    index_builds: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{CATALOG_PREFIX}{self.run}"

    @property
    def image_model(self) -> str:
        return f"bench-{self.run}"

    @property
    def text_model(self) -> str:
        return f"bench-text-{self.run}"

    @property
    def image_index(self) -> VectorIndex:
        return VectorIndex(self.image_model, "image", IMAGE_DIMENSIONS, configured_method())

    @property
    def text_index(self) -> VectorIndex:
        return VectorIndex(self.text_model, "description", TEXT_DIMENSIONS, configured_method())

    def all_indexes(self) -> list[VectorIndex]:
        """Every index the run may have made (the benchmark compares index methods)."""
        return [
            VectorIndex(index.model, index.kind, index.dimensions, method)
            for index in (self.image_index, self.text_index)
            for method in METHODS
        ]


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _tree_vectors(
    rng: np.random.Generator, cluster_of_sub: np.ndarray, sub_of_item: np.ndarray, d: int
) -> np.ndarray:
    clusters = _unit(rng.standard_normal((int(cluster_of_sub.max()) + 1, d)))
    subs = _unit(
        clusters[cluster_of_sub]
        + SUBCLUSTER_SPREAD * _unit(rng.standard_normal((len(cluster_of_sub), d)))
    )
    out = np.empty((len(sub_of_item), d), dtype=np.float32)
    for start in range(0, len(sub_of_item), 20000):  # bounded memory for large catalogs
        part = sub_of_item[start : start + 20000]
        out[start : start + len(part)] = _unit(
            subs[part] + ITEM_SPREAD * _unit(rng.standard_normal((len(part), d)))
        )
    return out


def raw_connection():
    """A connection of its own (Django's settings, none of its state): COPY, DDL, cleanup."""
    raw = connection.get_new_connection(connection.get_connection_params())
    raw.autocommit = True
    raw.execute(f"SET lock_timeout = '{int(LOCK_TIMEOUT_SECONDS * 1000)}ms'")
    return raw


def _ids(cursor, table: str, count: int) -> np.ndarray:
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        [table, count],
    )
    return np.asarray([row[0] for row in cursor.fetchall()], dtype=np.int64)


def _generate(items: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
    """The tree of clusters: each item's sub-cluster, its image and description vectors, and
    each sub-cluster's description."""
    rng = np.random.default_rng(seed)
    n_clusters = max(2, items // ITEMS_PER_CLUSTER)
    n_subs = max(n_clusters, items // ITEMS_PER_SUBCLUSTER)
    cluster_of_sub = np.concatenate(
        [np.arange(n_clusters), rng.integers(0, n_clusters, n_subs - n_clusters)]
    )
    sub_of_item = np.concatenate([np.arange(min(n_subs, items)), rng.integers(0, n_subs, items)])
    sub_of_item = sub_of_item[:items]
    image_vectors = _tree_vectors(rng, cluster_of_sub, sub_of_item, IMAGE_DIMENSIONS)
    text_vectors = _tree_vectors(rng, cluster_of_sub, sub_of_item, TEXT_DIMENSIONS)
    descriptions = [
        synthetic_description(rng, TYPES[cluster % len(TYPES)]) for cluster in cluster_of_sub
    ]
    return sub_of_item, image_vectors, text_vectors, descriptions


def index_build(cursor, index: VectorIndex, *, items: int) -> dict[str, float]:
    """Build `index` (on the benchmark's own connection): seconds and size in MB."""
    started = time.perf_counter()
    cursor.execute(f"SET maintenance_work_mem = '{build_memory(items)}'")
    cursor.execute(index.create_sql())
    seconds = round(time.perf_counter() - started, 2)
    cursor.execute("SELECT pg_relation_size(%s::regclass)", [index.name])
    return {"seconds": seconds, "mb": round(cursor.fetchone()[0] / 2**20, 1)}


def synthetic_catalog_load(
    *,
    items: int,
    seed: int = 0,
    on_progress: Callable[[str], None] | None = None,
    catalog: SyntheticCatalog | None = None,
) -> SyntheticCatalog:
    """Generate and load `items` materials (one image, analysis, image and description
    embedding each) with COPY, then build their HNSW indexes. Fill `catalog` as it goes, so a
    caller's cleanup knows what exists even when this is interrupted."""
    from pgvector.psycopg import register_vector

    say = on_progress or (lambda message: None)
    catalog = catalog or SyntheticCatalog(run=uuid.uuid4().hex[:8])
    started = time.perf_counter()
    sub_of_item, image_vectors, text_vectors, descriptions = _generate(items, seed)
    catalog.seconds["generate"] = round(time.perf_counter() - started, 2)
    say(f"generated {items} vectors in {catalog.seconds['generate']} s")
    now = datetime.now(tz=UTC)
    raw = raw_connection()
    try:
        register_vector(raw)
        with raw.cursor() as cursor:
            catalog.catalog_id = _catalog_insert(cursor, catalog, now)
            catalog.indexes = [catalog.image_index, catalog.text_index]
            ids = tuple(_ids(cursor, table, items) for table in (MATERIAL, IMAGE, ANALYSIS))
            started = time.perf_counter()
            with raw.transaction():
                synthetic_rows_copy(
                    cursor, catalog=catalog, now=now, ids=ids, sub_of_item=sub_of_item,
                    sub_descriptions=descriptions, vectors=(image_vectors, text_vectors),
                )  # fmt: skip
            catalog.material_ids, catalog.image_vectors = ids[0], image_vectors
            catalog.seconds["copy"] = round(time.perf_counter() - started, 2)
            say(f"copied {items} materials in {catalog.seconds['copy']} s")
            started = time.perf_counter()
            for index in catalog.indexes:
                catalog.index_builds[index.name] = index_build(cursor, index, items=items)
                say(f"built {index.name}: {catalog.index_builds[index.name]}")
            cursor.execute(f"ANALYZE {MATERIAL}, {IMAGE}, {ANALYSIS}, {EMBEDDING}")
            catalog.seconds["index"] = round(time.perf_counter() - started, 2)
    finally:
        raw.close()
    return catalog


def _catalog_insert(cursor, catalog: SyntheticCatalog, now: datetime) -> int:
    cursor.execute(
        f"INSERT INTO {CATALOG} (name, description, created_at) "  # noqa: S608 - constant table
        "VALUES (%s, %s, %s) RETURNING id",
        [catalog.name, "Temporary bench_search catalog; safe to delete.", now],
    )
    return cursor.fetchone()[0]


def synthetic_catalog_drop(*, catalog: SyntheticCatalog) -> None:
    """Remove the catalog's rows and indexes; safe to call on a half-loaded catalog."""
    raw = raw_connection()
    try:
        with raw.cursor() as cursor:
            for index in catalog.indexes or catalog.all_indexes():
                cursor.execute(index.drop_sql())
            # The table the index comparison gives DiskANN (search.benchmark.variants).
            cursor.execute(f"DROP TABLE IF EXISTS bench_dann_{catalog.run}")
            with raw.transaction():
                cursor.execute(
                    f"DELETE FROM {EMBEDDING} WHERE model = ANY(%s)",  # noqa: S608 - constant table
                    [[catalog.image_model, catalog.text_model]],
                )
                cursor.execute(f"SELECT id FROM {CATALOG} WHERE name = %s", [catalog.name])  # noqa: S608
                row = cursor.fetchone()
                if row is not None:
                    images = f"SELECT id FROM {IMAGE} WHERE catalog_id = %s"  # noqa: S608
                    cursor.execute(
                        f"DELETE FROM {ANALYSIS} WHERE image_id IN ({images})",  # noqa: S608
                        [row[0]],
                    )
                    _references_release(cursor, row[0])
                    cursor.execute(f"DELETE FROM {IMAGE} WHERE catalog_id = %s", [row[0]])  # noqa: S608
                    cursor.execute(f"DELETE FROM {MATERIAL} WHERE catalog_id = %s", [row[0]])  # noqa: S608
                    cursor.execute(f"DELETE FROM {CATALOG} WHERE id = %s", [row[0]])  # noqa: S608
    finally:
        raw.close()


_REFERENCES = (
    "SELECT c.conrelid::regclass::text, a.attname, a.attnotnull, c.confrelid::regclass::text "
    "FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid "
    "AND a.attnum = ANY(c.conkey) WHERE c.contype = 'f' "
    "AND c.confrelid = ANY(ARRAY[%s::regclass, %s::regclass]) AND NOT c.conrelid = ANY(ARRAY["
    "%s::regclass, %s::regclass, %s::regclass])"
)


def _references_release(cursor, catalog_id: int) -> None:
    """What other tables say about the catalog's materials (searches recorded by the API path,
    feedback…), let go of as the ORM's `on_delete` would: a nullable reference set to NULL,
    a row that cannot live without it deleted."""
    cursor.execute(_REFERENCES, [MATERIAL, CATALOG, IMAGE, MATERIAL, ANALYSIS])
    for table, column, required, target in cursor.fetchall():
        ids = (
            f"SELECT id FROM {MATERIAL} WHERE catalog_id = %s" if target == MATERIAL else "%s"  # noqa: S608
        )
        where = f"{column} IN ({ids})" if target == MATERIAL else f"{column} = %s"
        if required:
            cursor.execute(f"DELETE FROM {table} WHERE {where}", [catalog_id])  # noqa: S608
        else:
            cursor.execute(f"UPDATE {table} SET {column} = NULL WHERE {where}", [catalog_id])  # noqa: S608


def synthetic_catalog_exists(*, catalog: SyntheticCatalog) -> bool:
    """Whether any row or index of the catalog is left (the test of the cleanup)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {CATALOG} WHERE name = %s", [catalog.name])  # noqa: S608
        catalogs = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT count(*) FROM {EMBEDDING} WHERE model = ANY(%s)",  # noqa: S608
            [[catalog.image_model, catalog.text_model]],
        )
        embeddings = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM pg_indexes WHERE indexname = ANY(%s)",
            [[index.name for index in catalog.all_indexes()]],
        )
        indexes = cursor.fetchone()[0]
    return bool(catalogs or embeddings or indexes)
