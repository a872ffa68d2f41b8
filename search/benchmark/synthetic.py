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

import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from django.db import connection

from analysis.colors import NAMED_COLORS, rgb_to_hex, srgb_to_lab
from analysis.description import CATEGORY_OF_TYPE, FINISHES, MATERIAL_TYPES, PATTERNS
from analysis.models import Embedding, VisualAnalysis
from analysis.vector_indexes import VectorIndex
from materials.models import Catalog, Material, MaterialImage

IMAGE_DIMENSIONS = 512  # CLIP ViT-B/32, the production image model's size
TEXT_DIMENSIONS = 384  # MiniLM, the offline text model's size
ITEMS_PER_CLUSTER = 1000
ITEMS_PER_SUBCLUSTER = 20
SUBCLUSTER_SPREAD = 0.5
ITEM_SPREAD = 0.35
# An HNSW build of 100k 512-d vectors needs ~250 MB to stay in memory (else it slows badly).
BUILD_MEMORY = "1GB"
# How long the benchmark's own statements (COPY, CREATE/DROP INDEX, cleanup) wait for a lock
# another session holds on the catalog's tables (a long transaction, an orphaned index build)
# before the run stops and names it, instead of waiting for ever.
LOCK_TIMEOUT_SECONDS = 120
CATALOG_PREFIX = "bench-search-"

MATERIAL = Material._meta.db_table
IMAGE = MaterialImage._meta.db_table
ANALYSIS = VisualAnalysis._meta.db_table
EMBEDDING = Embedding._meta.db_table
CATALOG = Catalog._meta.db_table

_TYPES = [t for t in MATERIAL_TYPES if t != "other"]
_FINISHES = [f for f in FINISHES if f != "unknown"]
_PATTERNS = [p for p in PATTERNS if p != "unknown"]
_COLORS = list(NAMED_COLORS)


@dataclass
class SyntheticCatalog:
    run: str
    catalog_id: int | None = None
    material_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    image_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, IMAGE_DIMENSIONS)))
    indexes: list[VectorIndex] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

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
        return VectorIndex(self.image_model, "image", IMAGE_DIMENSIONS)

    @property
    def text_index(self) -> VectorIndex:
        return VectorIndex(self.text_model, "description", TEXT_DIMENSIONS)


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


def _description(rng: np.random.Generator, material_type: str) -> dict:
    color = _COLORS[int(rng.integers(len(_COLORS)))]
    rgb = NAMED_COLORS[color]
    lab = [round(float(v), 2) for v in srgb_to_lab(np.asarray(rgb, dtype=np.float64))]
    finish = _FINISHES[int(rng.integers(len(_FINISHES)))]
    pattern = _PATTERNS[int(rng.integers(len(_PATTERNS)))]
    return {
        "material_type": material_type,
        "category": CATEGORY_OF_TYPE[material_type],
        "colors": [{"name": color, "hex": rgb_to_hex(rgb), "lab": lab, "share": 1.0}],
        "lightness": lab[0],
        "texture": {
            "scale": ("fine", "medium", "coarse")[int(rng.integers(3))],
            "regularity": round(float(rng.uniform()), 3),
            "direction": ("none", "horizontal", "vertical")[int(rng.integers(3))],
            "contrast": round(float(rng.uniform(0, 0.6)), 3),
        },
        "finish": finish,
        "pattern": pattern,
        "properties": [],
        "confidence": {"overall": 0.9},
        "summary": f"Synthetic {color} {finish} {material_type}, {pattern} pattern.",
    }


def _raw_connection():
    """A connection of its own (Django's settings, none of its state): COPY, DDL, cleanup."""
    raw = connection.get_new_connection(connection.get_connection_params())
    raw.autocommit = True
    raw.execute(f"SET lock_timeout = '{int(LOCK_TIMEOUT_SECONDS * 1000)}ms'")
    return raw


def lock_holders() -> list[str]:
    """The other sessions that hold a lock on the tables the benchmark writes: pid, state,
    how long and the start of their statement (for an error message)."""
    tables = [EMBEDDING, ANALYSIS, IMAGE, MATERIAL, CATALOG]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT a.pid, a.state, date_trunc('second', now() - a.xact_start), "
            "left(a.query, 80) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.relation = ANY(%s::regclass[]) AND a.pid <> pg_backend_pid() "
            "ORDER BY a.pid",
            [tables],
        )
        return [
            f"pid {pid} ({state}, transaction open for {age}): {query}"
            for pid, state, age, query in cursor.fetchall()
        ]


def _ids(cursor, table: str, count: int) -> np.ndarray:
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        [table, count],
    )
    return np.asarray([row[0] for row in cursor.fetchall()], dtype=np.int64)


def synthetic_catalog_load(
    *,
    items: int,
    seed: int = 0,
    on_progress: Callable[[str], None] | None = None,
    catalog: SyntheticCatalog | None = None,
) -> SyntheticCatalog:
    """Generate and load `items` materials (one image, analysis, image and description
    embedding each), then build their HNSW indexes. Fill `catalog` as it goes, so a caller's
    cleanup knows what exists even when this is interrupted."""
    from pgvector.psycopg import register_vector

    say = on_progress or (lambda message: None)
    catalog = catalog or SyntheticCatalog(run=uuid.uuid4().hex[:8])
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    n_clusters = max(2, items // ITEMS_PER_CLUSTER)
    n_subs = max(n_clusters, items // ITEMS_PER_SUBCLUSTER)
    cluster_of_sub = np.concatenate(
        [np.arange(n_clusters), rng.integers(0, n_clusters, n_subs - n_clusters)]
    )
    sub_of_item = np.concatenate([np.arange(min(n_subs, items)), rng.integers(0, n_subs, items)])
    sub_of_item = sub_of_item[:items]
    image_vectors = _tree_vectors(rng, cluster_of_sub, sub_of_item, IMAGE_DIMENSIONS)
    text_vectors = _tree_vectors(rng, cluster_of_sub, sub_of_item, TEXT_DIMENSIONS)
    sub_descriptions = [
        _description(rng, _TYPES[cluster % len(_TYPES)]) for cluster in cluster_of_sub
    ]
    catalog.seconds["generate"] = round(time.perf_counter() - started, 2)
    say(f"generated {items} vectors in {catalog.seconds['generate']} s")

    now = datetime.now(tz=UTC)
    raw = _raw_connection()
    try:
        register_vector(raw)
        with raw.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {CATALOG} (name, description, created_at) "  # noqa: S608 - constant table
                "VALUES (%s, %s, %s) RETURNING id",
                [catalog.name, "Temporary bench_search catalog; safe to delete.", now],
            )
            catalog.catalog_id = cursor.fetchone()[0]
            catalog.indexes = [catalog.image_index, catalog.text_index]
            material_ids = _ids(cursor, MATERIAL, items)
            image_ids = _ids(cursor, IMAGE, items)
            analysis_ids = _ids(cursor, ANALYSIS, items)
            started = time.perf_counter()
            with raw.transaction():
                _copy_rows(
                    cursor,
                    catalog=catalog,
                    now=now,
                    ids=(material_ids, image_ids, analysis_ids),
                    sub_of_item=sub_of_item,
                    sub_descriptions=sub_descriptions,
                    vectors=(image_vectors, text_vectors),
                )
            catalog.material_ids = material_ids
            catalog.image_vectors = image_vectors
            catalog.seconds["copy"] = round(time.perf_counter() - started, 2)
            say(f"copied {items} materials in {catalog.seconds['copy']} s")
            started = time.perf_counter()
            cursor.execute(f"SET maintenance_work_mem = '{BUILD_MEMORY}'")
            for index in catalog.indexes:
                cursor.execute(index.create_sql())
            cursor.execute(f"ANALYZE {MATERIAL}, {IMAGE}, {ANALYSIS}, {EMBEDDING}")
            catalog.seconds["index"] = round(time.perf_counter() - started, 2)
            say(f"built the HNSW indexes in {catalog.seconds['index']} s")
    finally:
        raw.close()
    return catalog


def _copy_rows(cursor, *, catalog, now, ids, sub_of_item, sub_descriptions, vectors) -> None:
    material_ids, image_ids, analysis_ids = ids
    image_vectors, text_vectors = vectors
    with cursor.copy(
        f"COPY {MATERIAL} (id, catalog_id, name, sku, category, supplier, attributes, "
        "created_at, updated_at) FROM STDIN"
    ) as copy:
        for i, material_id in enumerate(material_ids.tolist()):
            kind = sub_descriptions[sub_of_item[i]]["material_type"]
            copy.write_row(
                (material_id, catalog.catalog_id, f"Synthetic {kind} {i}", f"bench-{i}", kind,
                 "", "{}", now, now)
            )  # fmt: skip
    with cursor.copy(
        f"COPY {IMAGE} (id, material_id, catalog_id, image, thumbnail, sha256, width, height, "
        "original_format, original_filename, is_primary, created_at) FROM STDIN"
    ) as copy:
        for i, (image_id, material_id) in enumerate(
            zip(image_ids.tolist(), material_ids.tolist(), strict=True)
        ):
            digest = f"{catalog.run}{i:056x}"
            copy.write_row(
                (image_id, material_id, catalog.catalog_id, f"bench/{digest}.jpg", "", digest,
                 256, 256, "JPEG", f"synthetic-{i}.jpg", True, now)
            )  # fmt: skip
    with cursor.copy(
        f"COPY {ANALYSIS} (id, image_id, status, source, description, model_output, "
        "material_type, confidence, model_id, prompt_version, error_reason, attempts, "
        "created_at, updated_at) FROM STDIN"
    ) as copy:
        texts = [json.dumps(d) for d in sub_descriptions]
        for i, (analysis_id, image_id) in enumerate(
            zip(analysis_ids.tolist(), image_ids.tolist(), strict=True)
        ):
            sub = sub_of_item[i]
            copy.write_row(
                (analysis_id, image_id, "completed", "offline", texts[sub], "{}",
                 sub_descriptions[sub]["material_type"], 0.9, "bench-synthetic", "", "", 1,
                 now, now)
            )  # fmt: skip
    with cursor.copy(
        f"COPY {EMBEDDING} (image_id, kind, model, dimensions, vector, source_sha256, created_at) "
        "FROM STDIN WITH (FORMAT BINARY)"
    ) as copy:
        copy.set_types(
            ["bigint", "varchar", "varchar", "integer", "vector", "varchar", "timestamptz"]
        )
        for index, model_vectors in (
            (catalog.image_index, image_vectors),
            (catalog.text_index, text_vectors),
        ):
            for image_id, vector in zip(image_ids.tolist(), model_vectors, strict=True):
                copy.write_row(
                    (image_id, index.kind, index.model, index.dimensions, vector, "", now)
                )


def synthetic_catalog_drop(*, catalog: SyntheticCatalog) -> None:
    """Remove the catalog's rows and indexes; safe to call on a half-loaded catalog."""
    raw = _raw_connection()
    try:
        with raw.cursor() as cursor:
            for index in catalog.indexes or [catalog.image_index, catalog.text_index]:
                cursor.execute(index.drop_sql())
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
                    cursor.execute(f"DELETE FROM {IMAGE} WHERE catalog_id = %s", [row[0]])  # noqa: S608
                    cursor.execute(f"DELETE FROM {MATERIAL} WHERE catalog_id = %s", [row[0]])  # noqa: S608
                    cursor.execute(f"DELETE FROM {CATALOG} WHERE id = %s", [row[0]])  # noqa: S608
    finally:
        raw.close()


def _claim_key(run: str) -> int:
    digest = hashlib.sha256(f"swatch-bench-search:{run}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def synthetic_run_claimed(catalog: SyntheticCatalog) -> Iterator[None]:
    """Hold this run's claim (a Postgres advisory lock on a connection of its own) while it
    runs: the lock goes with the connection, so a run killed with -9 leaves an unclaimed
    catalog that the next run removes (`synthetic_catalogs_abandoned_drop`)."""
    raw = _raw_connection()
    try:
        raw.execute("SELECT pg_advisory_lock(%s)", [_claim_key(catalog.run)])
        yield
    finally:
        raw.close()


def _leftover_runs(cursor) -> set[str]:
    cursor.execute(f"SELECT name FROM {CATALOG} WHERE name LIKE %s", [f"{CATALOG_PREFIX}%"])  # noqa: S608 - constant table
    runs = {name.removeprefix(CATALOG_PREFIX) for (name,) in cursor.fetchall()}
    cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'emb_hnsw_bench_%'")
    for (name,) in cursor.fetchall():
        match = _INDEX_OF_RUN.match(name)
        if match:
            runs.add(match.group(1))
    return runs


_INDEX_OF_RUN = re.compile(r"^emb_hnsw_bench_(?:text_)?([0-9a-z]+)_(?:image|description)$")


def synthetic_catalogs_abandoned_drop() -> list[str]:
    """Remove the catalogs (rows and indexes) of earlier runs that no process claims any more
    (killed before their cleanup); a running one is left alone. Returns their run ids."""
    raw = _raw_connection()
    removed = []
    try:
        with raw.cursor() as cursor:
            runs = sorted(_leftover_runs(cursor))
        for run in runs:
            key = _claim_key(run)
            if not raw.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()[0]:
                continue  # its run is still going
            try:
                synthetic_catalog_drop(catalog=SyntheticCatalog(run=run))
                removed.append(run)
            finally:
                raw.execute("SELECT pg_advisory_unlock(%s)", [key])
    finally:
        raw.close()
    return removed


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
            [[catalog.image_index.name, catalog.text_index.name]],
        )
        indexes = cursor.fetchone()[0]
    return bool(catalogs or embeddings or indexes)
