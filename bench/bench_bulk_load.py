"""Bulk loading of one model's vectors: the service's bulk path against raw COPY + CREATE INDEX.

    SWATCH_ENV=development nice -n 10 python bench/bench_bulk_load.py [--items 100000]
        [--pairs 2] [--row-by-row 5000] [--json bench/results/bulk_load.json]

On a temporary catalog of N synthetic images (COPY-loaded, like `bench_search`'s), the same
N clustered 512-d vectors are written two ways, in one run, alternating (raw, service, then
service, raw…) so a load burst from another process hits both alike:

- `raw`: COPY (binary) straight into `analysis_embedding`, then `CREATE INDEX` of the model's
  partial HNSW index, on a connection of its own — the floor;
- `service`: `analysis.registry.bulk_load.EmbeddingBulkLoad` as `reembed_catalog --sync` uses
  it, for a model whose (empty) index exists: the index dropped, the rows COPYed through a
  temporary table and upserted, the index built again.

Both build with the same `maintenance_work_mem` (the service's sizing). With `--row-by-row R`,
R vectors are also upserted in batches of 16 into an existing index (the path below the bulk
threshold) for its rows per second. Everything the run made is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _catalog(items: int, seed: int):
    """A synthetic catalog's images (no embeddings, no indexes) and N image vectors."""
    from pgvector.psycopg import register_vector

    from search.benchmark import synthetic
    from search.benchmark.synthetic_rows import IMAGE, MATERIAL, _copy_images, _copy_materials

    catalog = synthetic.SyntheticCatalog(run=uuid.uuid4().hex[:8])
    _, vectors, _, _ = synthetic._generate(items, seed)
    now = datetime.now(tz=UTC)
    raw = synthetic.raw_connection()
    register_vector(raw)
    with raw.cursor() as cursor:
        catalog.catalog_id = synthetic._catalog_insert(cursor, catalog, now)
        material_ids, image_ids = (synthetic._ids(cursor, t, items) for t in (MATERIAL, IMAGE))
        with raw.transaction():
            _copy_materials(cursor, catalog=catalog, now=now, material_ids=material_ids,
                            kinds=["wood"] * items)  # fmt: skip
            _copy_images(cursor, catalog=catalog, now=now, material_ids=material_ids,
                         image_ids=image_ids)  # fmt: skip
    raw.close()
    return catalog, image_ids, vectors


def _raw(model: str, image_ids, vectors) -> dict:
    from pgvector.psycopg import register_vector

    from analysis.registry.bulk_load import build_memory
    from analysis.vector_indexes import VectorIndex
    from search.benchmark import synthetic
    from search.benchmark.synthetic_rows import copy_embeddings

    index = VectorIndex(model, "image", vectors.shape[1])
    raw = synthetic.raw_connection()
    register_vector(raw)
    started = time.perf_counter()
    with raw.cursor() as cursor:
        with raw.transaction():
            copy_embeddings(cursor, now=datetime.now(tz=UTC), image_ids=image_ids,
                            indexed_vectors=((index, vectors),))  # fmt: skip
        copied = time.perf_counter()
        cursor.execute(f"SET maintenance_work_mem = '{build_memory(len(vectors))}'")
        cursor.execute(index.create_sql())
    raw.close()
    done = time.perf_counter()
    return _figures(copied - started, done - copied)


def _service(model: str, image_ids, vectors) -> dict:
    from django.db import connection

    from analysis.registry.bulk_load import EmbeddingBulkLoad, VectorRow
    from analysis.vector_indexes import VectorIndex

    with connection.cursor() as cursor:  # the model's index exists, as a registered model's does
        cursor.execute(VectorIndex(model, "image", vectors.shape[1]).create_sql())
    rows = [VectorRow(int(i), v) for i, v in zip(image_ids.tolist(), vectors, strict=True)]
    started = time.perf_counter()
    with EmbeddingBulkLoad(
        model=model, kind="image", dimensions=vectors.shape[1], expected_rows=len(rows),
        min_rows=1,
    ) as load:  # fmt: skip
        load.add(rows)
    total = time.perf_counter() - started
    return _figures(total - load.seconds["index"], load.seconds["index"])


def _row_by_row(model: str, image_ids, vectors) -> dict:
    from django.db import connection

    from analysis.registry.bulk_load import EmbeddingBulkLoad, VectorRow
    from analysis.vector_indexes import VectorIndex

    with connection.cursor() as cursor:
        cursor.execute(VectorIndex(model, "image", vectors.shape[1]).create_sql())
    rows = [VectorRow(int(i), v) for i, v in zip(image_ids.tolist(), vectors, strict=True)]
    started = time.perf_counter()
    for start in range(0, len(rows), 16):  # reembed's batches, each one upsert statement
        with EmbeddingBulkLoad(
            model=model, kind="image", dimensions=vectors.shape[1], expected_rows=0
        ) as load:
            load.add(rows[start : start + 16])
    seconds = time.perf_counter() - started
    return {
        "rows": len(rows),
        "seconds": round(seconds, 2),
        "rows_per_s": round(len(rows) / seconds),
    }


def _figures(copy: float, index: float) -> dict:
    return {"copy_s": round(copy, 2), "index_s": round(index, 2), "total_s": round(copy + index, 2)}


def _cleanup(catalog, models: list[str], dimensions: int) -> None:
    from analysis.vector_indexes import VectorIndex
    from search.benchmark import synthetic

    raw = synthetic.raw_connection()
    with raw.cursor() as cursor:
        for model in models:
            cursor.execute(VectorIndex(model, "image", dimensions).drop_sql())
        cursor.execute("DELETE FROM analysis_embedding WHERE model = ANY(%s)", [models])
    raw.close()
    synthetic.synthetic_catalog_drop(catalog=catalog)


def _pairs(args, image_ids, vectors, run: str, models: list[str]) -> list[dict]:
    pairs = []
    for n in range(args.pairs):
        order = ("raw", "service") if n % 2 == 0 else ("service", "raw")
        pair = {}
        for way in order:
            model = f"bench-bulk-{way}-{run}-{n}"
            models.append(model)
            pair[way] = (_raw if way == "raw" else _service)(model, image_ids, vectors)
            print(f"pair {n} {way}: {pair[way]}", file=sys.stderr, flush=True)
        pair["ratio"] = round(pair["service"]["total_s"] / pair["raw"]["total_s"], 3)
        pairs.append(pair)
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--row-by-row", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=BASE_DIR / "bench/results/bulk_load.json")
    args = parser.parse_args()
    import django

    django.setup()
    started = time.perf_counter()
    catalog, image_ids, vectors = _catalog(args.items, args.seed)
    print(
        f"catalog of {args.items} images in {time.perf_counter() - started:.0f} s", file=sys.stderr
    )
    run, models = catalog.run, []
    try:
        pairs = _pairs(args, image_ids, vectors, run, models)
        rows = min(args.row_by_row, args.items)
        row_by_row = None
        if rows:
            models.append(f"bench-bulk-rows-{run}")
            row_by_row = _row_by_row(models[-1], image_ids[:rows], vectors[:rows])
    finally:
        _cleanup(catalog, models, vectors.shape[1])
    result = {
        "items": args.items,
        "dimensions": int(vectors.shape[1]),
        "pairs": pairs,
        "ratio_service_over_raw": {
            "median": round(statistics.median(p["ratio"] for p in pairs), 3),
            "max": max(p["ratio"] for p in pairs),
        },
        "row_by_row_into_index": row_by_row,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },  # fmt: skip
        "command": " ".join(["bench/bench_bulk_load.py", *sys.argv[1:]]),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
