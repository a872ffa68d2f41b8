"""Bulk loading of one model's vectors: the service's bulk path against raw COPY + CREATE INDEX.

    SWATCH_ENV=development nice -n 10 python bench/bench_bulk_load.py [--items 100000]
        [--pairs 2] [--row-by-row 5000] [--ways reembed import]
        [--json bench/results/bulk_load.json]

On a temporary catalog of N synthetic images (COPY-loaded, like `bench_search`'s), the same
N clustered 512-d vectors are written two ways, in one run, alternating (raw, service, then
service, raw…) so a load burst from another process hits both alike:

- `raw`: COPY (binary) straight into `analysis_embedding`, then `CREATE INDEX` of the model's
  partial HNSW index, on a connection of its own — the floor;
- `service`: `analysis.registry.bulk_load.EmbeddingBulkLoad` as `reembed_catalog --sync` uses
  it, for a model whose (empty) index exists: the index dropped, the rows COPYed through a
  temporary table and upserted, the index built again.

With `--ways import` (bench/bulk_load_import.py), the same for a large `import_catalog
--sync`: its analyses' writes with the image and description vectors (`raw`: both COPYed, both
indexes created; `import`: `analysis.ingest.outcomes_write` batch by batch in a bulk load, each
batch's analyses and COPYed vectors in one transaction, the two indexes built after).

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
from types import SimpleNamespace

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _catalog(items: int, seed: int):
    """A synthetic catalog's images and their analyses (no embeddings, no indexes), and what
    the models would make of them: image and description vectors, descriptions."""
    from pgvector.psycopg import register_vector

    from search.benchmark import synthetic
    from search.benchmark import synthetic_rows as rows

    catalog = synthetic.SyntheticCatalog(run=uuid.uuid4().hex[:8])
    sub_of_item, vectors, text_vectors, descriptions = synthetic._generate(items, seed)
    now = datetime.now(tz=UTC)
    raw = synthetic.raw_connection()
    register_vector(raw)
    with raw.cursor() as cursor:
        catalog.catalog_id = synthetic._catalog_insert(cursor, catalog, now)
        material_ids, image_ids, analysis_ids = (
            synthetic._ids(cursor, t, items) for t in (rows.MATERIAL, rows.IMAGE, rows.ANALYSIS)
        )
        with raw.transaction():
            rows._copy_materials(cursor, catalog=catalog, now=now, material_ids=material_ids,
                                 kinds=["wood"] * items)  # fmt: skip
            rows._copy_images(cursor, catalog=catalog, now=now, material_ids=material_ids,
                              image_ids=image_ids)  # fmt: skip
            rows._copy_analyses(cursor, now=now, image_ids=image_ids, analysis_ids=analysis_ids,
                                sub_of_item=sub_of_item, sub_descriptions=descriptions)  # fmt: skip
    raw.close()
    data = SimpleNamespace(
        image_ids=image_ids, analysis_ids=analysis_ids, image_vectors=vectors,
        text_vectors=text_vectors, descriptions=descriptions, sub_of_item=sub_of_item,
    )  # fmt: skip
    return catalog, data


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


def _cleanup(catalog, models: list[str]) -> None:
    from search.benchmark import synthetic

    raw = synthetic.raw_connection()
    with raw.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'analysis_embedding' "
            "AND indexname LIKE 'emb\\_%%\\_bench\\_bulk\\_%%'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
        cursor.execute("DELETE FROM analysis_embedding WHERE model = ANY(%s)", [models])
    raw.close()
    synthetic.synthetic_catalog_drop(catalog=catalog)


def _way(way: str, model: str, data, args) -> dict:
    import bulk_load_import

    if way == "raw":
        return _raw(model, data.image_ids, data.image_vectors)
    if way == "service":
        return _service(model, data.image_ids, data.image_vectors)
    if way == "raw-import":
        return bulk_load_import.raw(model, data)
    return bulk_load_import.service(model, data, args.batch)


def _pairs(args, data, run: str, models: list[str], ways: tuple[str, str]) -> list[dict]:
    pairs = []
    for n in range(args.pairs):
        order = ways if n % 2 == 0 else ways[::-1]
        pair = {}
        for way in order:
            model = f"bench-bulk-{way}-{run}-{n}"
            models.extend([model, f"{model}-img", f"{model}-txt"])
            pair[way] = _way(way, model, data, args)
            print(f"pair {n} {way}: {pair[way]}", file=sys.stderr, flush=True)
        pair["ratio"] = round(pair[ways[1]]["total_s"] / pair[ways[0]]["total_s"], 3)
        if "records_s" in pair[ways[1]]:  # the vectors' part alone: what raw does
            vectors = pair[ways[1]]["total_s"] - pair[ways[1]]["records_s"]
            pair["ratio_vectors"] = round(vectors / pair[ways[0]]["total_s"], 3)
        pairs.append(pair)
    return pairs


def _ratios(pairs: list[dict], key: str = "ratio") -> dict | None:
    if not pairs:
        return None
    ratios = [p[key] for p in pairs]
    return {"median": round(statistics.median(ratios), 3), "max": max(ratios)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--row-by-row", type=int, default=5000)
    parser.add_argument("--ways", nargs="+", choices=["reembed", "import"], default=["reembed"])
    parser.add_argument("--batch", type=int, default=None, help="import: analyses per write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=BASE_DIR / "bench/results/bulk_load.json")
    args = parser.parse_args()
    import django

    django.setup()
    from analysis.ingest import BULK_WRITE_ROWS

    args.batch = args.batch or BULK_WRITE_ROWS
    started = time.perf_counter()
    catalog, data = _catalog(args.items, args.seed)
    print(
        f"catalog of {args.items} images in {time.perf_counter() - started:.0f} s", file=sys.stderr
    )
    run, models = catalog.run, []
    pairs, imports, row_by_row = [], [], None
    try:
        if "reembed" in args.ways:
            pairs = _pairs(args, data, run, models, ("raw", "service"))
        if "import" in args.ways:
            imports = _pairs(args, data, run, models, ("raw-import", "import"))
        rows = min(args.row_by_row, args.items) if "reembed" in args.ways else 0
        if rows:
            models.append(f"bench-bulk-rows-{run}")
            row_by_row = _row_by_row(models[-1], data.image_ids[:rows], data.image_vectors[:rows])
    finally:
        _cleanup(catalog, models)
    result = {
        "items": args.items,
        "dimensions": int(data.image_vectors.shape[1]),
        "pairs": pairs,
        "ratio_service_over_raw": _ratios(pairs),
        "import_pairs": imports,
        "import": {
            "batch": args.batch,
            "description_dimensions": int(data.text_vectors.shape[1]),
            "ratio_import_over_raw": _ratios(imports),
            "ratio_vectors_over_raw": _ratios(imports, "ratio_vectors"),
        }
        if imports
        else None,
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
