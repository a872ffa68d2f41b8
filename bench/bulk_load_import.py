"""`bench_bulk_load.py --ways import`: the vectors of a large `import_catalog --sync` (its
analyses' writes, `analysis.ingest.outcomes_write` inside `EmbeddingBulkLoads`, batch by batch
as the run writes them) against raw COPY + CREATE INDEX of the same image and description
vectors. The models' outputs are made before the clock starts (the pipeline's work, not the
load's); the analyses are claimed as the run's claim leaves them (running, attempt 1)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def indexes(prefix: str, dimensions: tuple[int, int]):
    from analysis.vector_indexes import VectorIndex

    image, text = dimensions
    return (VectorIndex(f"{prefix}-img", "image", image),
            VectorIndex(f"{prefix}-txt", "description", text))  # fmt: skip


def outputs(data, image_index, text_index) -> list:
    """The pipeline's outputs for every analysis: its synthetic description, both vectors."""
    from analysis.description import description_parse
    from analysis.pipeline import PipelineOutput
    from analysis.providers.protocols import DescriptionResult

    parsed = [  # the synthetic catalog's (search reads) with the confidences a model gives
        description_parse({**d, "confidence": {"overall": 0.9, "material_type": 0.9}})
        for d in data.descriptions
    ]
    made = []
    for i, analysis_id in enumerate(data.analysis_ids.tolist()):
        description = parsed[data.sub_of_item[i]]
        made.append(PipelineOutput(
            key=analysis_id, description=description, status="completed",
            result=DescriptionResult(description, "offline", "bench-synthetic", "t1"),
            image_model=image_index.model, image_vector=data.image_vectors[i],
            text_model=text_index.model, text_vector=data.text_vectors[i],
            text=description.as_text(),
        ))  # fmt: skip
    return made


def raw(prefix: str, data) -> dict:
    """COPY both models' vectors straight into the table, then CREATE INDEX of each."""
    from pgvector.psycopg import register_vector

    from analysis.registry.bulk_load import build_memory
    from search.benchmark import synthetic
    from search.benchmark.synthetic_rows import copy_embeddings

    pair = indexes(prefix, (data.image_vectors.shape[1], data.text_vectors.shape[1]))
    connection = synthetic.raw_connection()
    register_vector(connection)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        with connection.transaction():
            vectors = zip(pair, (data.image_vectors, data.text_vectors), strict=True)
            copy_embeddings(cursor, now=datetime.now(tz=UTC), image_ids=data.image_ids,
                            indexed_vectors=vectors)  # fmt: skip
        copied = time.perf_counter()
        cursor.execute(f"SET maintenance_work_mem = '{build_memory(len(data.image_ids))}'")
        for index in pair:
            cursor.execute(index.create_sql())
    connection.close()
    done = time.perf_counter()
    return {"copy_s": round(copied - started, 2), "index_s": round(done - copied, 2),
            "total_s": round(done - started, 2)}  # fmt: skip


def service(prefix: str, data, batch: int) -> dict:
    """The import's write path, `batch` analyses at a time as the run writes them in a bulk
    load (`analysis.ingest.BULK_WRITE_ROWS`), the models' indexes existing as a registered
    model's do."""
    from django.db import connection

    from analysis.ingest import AnalysisRunSummary, outcomes_write
    from analysis.models import AnalysisStatus, VisualAnalysis
    from analysis.registry.bulk_load import EmbeddingBulkLoads

    image_index, text_index = pair = indexes(
        prefix, (data.image_vectors.shape[1], data.text_vectors.shape[1])
    )
    made = outputs(data, image_index, text_index)
    with connection.cursor() as cursor:
        for index in pair:
            cursor.execute(index.create_sql())
    # claimed, as the run's claim leaves them
    VisualAnalysis.objects.filter(pk__in=data.analysis_ids.tolist()).update(
        status=AnalysisStatus.RUNNING, attempts=1
    )
    summary = AnalysisRunSummary()
    how = {"force_curated": False, "fresh": False, "options": None}
    started = time.perf_counter()
    with EmbeddingBulkLoads(expected_rows=len(made), min_rows=1) as loads:
        for start in range(0, len(made), batch):
            chunk = made[start : start + batch]
            claims = {output.key: 1 for output in chunk}
            outcomes_write(chunk, claims, summary, vectors=loads, **how)
    total = time.perf_counter() - started
    if summary.completed != len(made):
        raise RuntimeError(f"only {summary.completed} of {len(made)} analyses written")
    index, copy = loads.seconds("index"), loads.seconds("copy")
    return {"copy_s": round(copy, 2), "records_s": round(total - index - copy, 2),
            "index_s": round(index, 2), "total_s": round(total, 2)}  # fmt: skip
