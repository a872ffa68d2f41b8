"""One model's vectors written in bulk: COPY, and the model's vector indexes built after.

An HNSW index kept up to date row by row makes every insert a graph search, several times
slower than loading the rows and building the graph once (DESIGN.md, "Vectors in Postgres").
A load of at least `SWATCH["BULK_LOAD_MIN_ROWS"]` rows therefore drops the model's vector
indexes (those that exist), COPYs the rows in binary through a temporary table (a row that
exists is updated, as the row-by-row upsert does) and builds the same indexes again at the end —
also when the load stops part way, so an index is never left missing. A smaller load upserts
its rows as they come, the indexes kept.

While its index is away, a search of the model scans exactly (right, slower), so a bulk load
of the active model's vectors belongs in a quiet hour; a model not yet active is not searched.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from analysis.embedding_models import EmbeddingModel
from analysis.embedding_writes import embeddings_write
from analysis.models import Embedding
from analysis.vector_indexes import SERVING_METHODS, VectorIndex

TABLE = Embedding._meta.db_table
FLUSH_ROWS = 5000  # rows per COPY: bounded memory, and an interruption loses at most these
# An HNSW build stays fast while its graph fits in `maintenance_work_mem` (~3 KB a 512-d
# vector): at least 64 MB, at most 4 GB.
BUILD_MEMORY_KB_PER_ROW = 3
BUILD_MEMORY_MB = (64, 4096)


@dataclass(frozen=True)
class VectorRow:
    image_id: int
    vector: np.ndarray | list[float]
    source_sha256: str = ""


def build_memory(rows: int) -> str:
    low, high = BUILD_MEMORY_MB
    return f"{int(min(high, max(low, rows * BUILD_MEMORY_KB_PER_ROW / 1024)))}MB"


def vector_binary(vector) -> bytes:
    """pgvector's binary form (its `vector_recv`): the dimensions and an unused word as
    int16, then the float32s, all big-endian. Sent as bytea: a binary COPY carries no types,
    the server reads each field with its column's receive function."""
    array = np.asarray(vector, dtype=">f4").ravel()
    return struct.pack(">HH", array.shape[0], 0) + array.tobytes()


def indexes_present(*, model: str, kind: str, dimensions: int) -> list[VectorIndex]:
    """The model's vector indexes that exist now (any serving method)."""
    candidates = [VectorIndex(model, kind, dimensions, method) for method in SERVING_METHODS]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexname = ANY(%s)",
            [TABLE, [index.name for index in candidates]],
        )
        present = {row[0] for row in cursor.fetchall()}
    return [index for index in candidates if index.name in present]


def build_options(indexes: list[VectorIndex]) -> dict[str, dict[str, int]]:
    """Each index's HNSW build options as it was built (`m`, `ef_construction`), so a rebuild
    makes the same graph, not the settings' (an index built denser stays denser)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)",
            [[index.name for index in indexes]],
        )
        found = cursor.fetchall()
    return {
        name: {k: int(v) for k, _, v in (o.partition("=") for o in options or [])
               if k in ("m", "ef_construction")}
        for name, options in found
    }  # fmt: skip


@dataclass
class EmbeddingBulkLoad:
    """`with EmbeddingBulkLoad(model=…, kind=…, dimensions=…, expected_rows=n) as load:
    load.add(rows)`: bulk (COPY, indexes rebuilt on leaving) when `expected_rows` reaches
    `min_rows` (default `SWATCH["BULK_LOAD_MIN_ROWS"]`), else upserted as they come."""

    model: str
    kind: str
    dimensions: int
    expected_rows: int
    min_rows: int | None = None
    written: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    _dropped: list[VectorIndex] = field(default_factory=list)
    _options: dict[str, dict[str, int]] = field(default_factory=dict)
    _buffer: list[VectorRow] = field(default_factory=list)

    @property
    def bulk(self) -> bool:
        threshold = self.min_rows
        if threshold is None:
            threshold = settings.SWATCH["BULK_LOAD_MIN_ROWS"]
        return self.expected_rows >= max(1, threshold)

    def __enter__(self) -> EmbeddingBulkLoad:
        if self.bulk:
            self._dropped = indexes_present(
                model=self.model, kind=self.kind, dimensions=self.dimensions
            )
            self._options = build_options(self._dropped) if self._dropped else {}
            with connection.cursor() as cursor:
                for index in self._dropped:
                    cursor.execute(index.drop_sql())
        return self

    def add(self, rows: Iterable[VectorRow]) -> None:
        if not self.bulk:
            self._upsert(list(rows))
            return
        for row in rows:
            self._buffer.append(row)
            if len(self._buffer) >= FLUSH_ROWS:
                self.flush()

    def __exit__(self, exc_type, exc, traceback) -> None:
        try:
            if self._buffer:
                self.flush()
        finally:
            if self.bulk:
                self._indexes_rebuild()

    def _upsert(self, rows: list[VectorRow]) -> None:
        embeddings_write(
            Embedding(
                image_id=row.image_id, kind=self.kind, model=self.model,
                dimensions=self.dimensions, vector=np.asarray(row.vector).tolist(),
                source_sha256=row.source_sha256,
            )
            for row in rows
        )  # fmt: skip
        self.written += len(rows)

    def flush(self) -> None:
        """Write the buffered rows in one transaction (the caller's, when it has one open: the
        rows the vectors belong to then commit with them)."""
        rows, self._buffer = self._buffer, []
        if not rows:
            return
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE swatch_bulk_vectors (image_id bigint, vector vector, "
                "source_sha256 varchar(64)) ON COMMIT DROP"
            )
            with cursor.copy(
                "COPY swatch_bulk_vectors (image_id, vector, source_sha256) "
                "FROM STDIN WITH (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["bigint", "bytea", "text"])
                for row in rows:
                    copy.write_row((row.image_id, vector_binary(row.vector), row.source_sha256))
            cursor.execute(
                f"INSERT INTO {TABLE} (image_id, kind, model, dimensions, vector, "  # noqa: S608 - constant table
                "source_sha256, created_at) SELECT image_id, %s, %s, %s, vector, source_sha256, "
                "%s FROM swatch_bulk_vectors ON CONFLICT (image_id, kind, model) DO UPDATE SET "
                "vector = EXCLUDED.vector, dimensions = EXCLUDED.dimensions, "
                "source_sha256 = EXCLUDED.source_sha256",
                [self.kind, self.model, self.dimensions, timezone.now()],
            )
            cursor.execute("DROP TABLE swatch_bulk_vectors")  # another model's flush may follow
        self.written += len(rows)
        self.seconds["copy"] = self.seconds.get("copy", 0.0) + time.perf_counter() - started

    def _indexes_rebuild(self) -> None:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"SET maintenance_work_mem = '{build_memory(self.written)}'")
            try:
                for index in self._dropped:
                    cursor.execute(index.create_sql(**self._options.get(index.name, {})))
            finally:
                cursor.execute("RESET maintenance_work_mem")
        if self._dropped:
            EmbeddingModel.objects.filter(name=self.model, kind=self.kind).update(
                index_built_at=timezone.now()
            )
        self.seconds["index"] = time.perf_counter() - started


class EmbeddingBulkLoads:
    """The bulk loads of a run that writes several models' vectors (an analysis run: an image
    and a description vector per image), all bulk or none by `expected_rows` as one load's.
    `open(keys)` drops each (kind, model, dimensions)'s indexes before the caller's write
    transaction (no table lock held through it); `add` buffers, `flush` writes every model's
    rows in the caller's transaction (with the rows they belong to: an analysis is never
    committed without its vectors); leaving rebuilds every index dropped, stopped or not."""

    def __init__(self, *, expected_rows: int, min_rows: int | None = None) -> None:
        self.expected_rows, self.min_rows = expected_rows, min_rows
        self.loads: dict[tuple[str, str], EmbeddingBulkLoad] = {}
        self._stack = ExitStack()

    @property
    def bulk(self) -> bool:
        probe = EmbeddingBulkLoad(
            model="", kind="", dimensions=0, expected_rows=self.expected_rows,
            min_rows=self.min_rows,
        )  # fmt: skip
        return probe.bulk

    def __enter__(self) -> EmbeddingBulkLoads:
        self._stack.__enter__()
        return self

    def open(self, keys: Iterable[tuple[str, str, int]]) -> None:
        for kind, model, dimensions in keys:
            if (kind, model) not in self.loads:
                load = EmbeddingBulkLoad(
                    model=model, kind=kind, dimensions=dimensions,
                    expected_rows=self.expected_rows, min_rows=self.min_rows,
                )  # fmt: skip
                self.loads[(kind, model)] = self._stack.enter_context(load)

    def add(self, *, kind: str, model: str, rows: list[VectorRow]) -> None:
        self.open([(kind, model, len(rows[0].vector))])
        self.loads[(kind, model)].add(rows)

    def flush(self) -> None:
        for load in self.loads.values():
            load.flush()

    @property
    def written(self) -> int:
        return sum(load.written for load in self.loads.values())

    def seconds(self, step: str) -> float:
        return sum(load.seconds.get(step, 0.0) for load in self.loads.values())

    def __exit__(self, exc_type, exc, traceback) -> bool | None:
        if exc_type is not None:  # what is buffered belongs to rows the caller rolled back
            for load in self.loads.values():
                load._buffer.clear()
        return self._stack.__exit__(exc_type, exc, traceback)
