"""A registered model's vectors for a catalog, from what is stored: the images' kept
embedding input (kind image) or the descriptions (kind description). Nothing is described
again and no other model's vector is touched.

Resumable by construction: the work is "the target images that have no vector of this model
yet", asked again on every run, and each batch is written in one statement (upsert on the
one-vector-per-image-kind-model constraint), so an interrupted run leaves whole batches
behind and a repeated batch writes the same rows again instead of new ones.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from PIL import Image

from analysis.caching import text_sha256
from analysis.description import DescriptionInvalid, description_parse
from analysis.embedding_models import EmbeddingModel
from analysis.models import Embedding, VisualAnalysis
from analysis.pipeline import AnalysisQualityError, vector_checked
from analysis.registry.bulk_load import EmbeddingBulkLoad, VectorRow
from analysis.registry.embedders import embedder_for
from analysis.registry.selectors import target_images_sql
from materials.intake import embedding_input
from materials.models import Catalog, MaterialImage

logger = logging.getLogger("swatch.analysis.reembed")
TASK = "analysis.registry.reembed.reembed_task"


@dataclass
class ReembedSummary:
    embedded: int = 0
    failed: int = 0
    reasons: list[str] = field(default_factory=list)


def reembed_targets(*, model: EmbeddingModel, catalog: Catalog | None = None) -> list[int]:
    """Ids of the images `model` should cover and has no vector of yet, in id order."""
    where, params = ("AND t.catalog_id = %s", [catalog.pk]) if catalog else ("", [])
    sql = (
        f"SELECT t.image_id FROM ({target_images_sql(model.kind)}) t "  # noqa: S608 - constants
        f"WHERE NOT EXISTS (SELECT 1 FROM {Embedding._meta.db_table} e "
        f"WHERE e.image_id = t.image_id AND e.model = %s AND e.kind = %s) {where} "
        "ORDER BY t.image_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [model.name, model.kind, *params])
        return [row[0] for row in cursor.fetchall()]


def stored_input(image: MaterialImage) -> Image.Image:
    """What the image embedders saw at intake: the kept lossless input, else from the file."""
    field_file = image.embedding_input or image.image
    with field_file.open("rb") as handle:
        pixels = Image.open(handle)
        pixels.load()
    pixels = pixels.convert("RGB")
    return pixels if image.embedding_input else embedding_input(pixels)


def _image_inputs(ids: Sequence[int], summary: ReembedSummary) -> list[tuple[int, str, object]]:
    inputs = []
    for image in MaterialImage.objects.filter(pk__in=ids).order_by("pk"):
        try:
            inputs.append((image.pk, image.sha256, stored_input(image)))
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            summary.failed += 1
            summary.reasons.append(f"image {image.pk}: unreadable ({exc})")
    return inputs


def _text_inputs(ids: Sequence[int], summary: ReembedSummary) -> list[tuple[int, str, object]]:
    inputs = []
    for row in VisualAnalysis.objects.filter(image_id__in=ids).order_by("image_id"):
        try:
            text = description_parse(row.description).as_text()
        except DescriptionInvalid as exc:
            summary.failed += 1
            summary.reasons.append(f"image {row.image_id}: description invalid ({exc})")
            continue
        inputs.append((row.image_id, text_sha256(text), text))
    return inputs


def _vectors(model: EmbeddingModel, payloads: list) -> list:
    embedder = embedder_for(model)
    if model.kind == "image":
        batch = embedder.embed_images(payloads)
    else:
        batch = embedder.embed_texts(payloads)
    if batch.model != model.name or batch.vectors.shape[0] != len(payloads):
        # A fallback link answered: its vectors are another model's, not this one's.
        raise AnalysisQualityError(f"{model.name} did not answer (got {batch.model!r}).")
    return [vector_checked(v, dimensions=model.dimensions, what=model.name) for v in batch.vectors]


def reembed_batch(
    *, model: EmbeddingModel, image_ids: Sequence[int], load: EmbeddingBulkLoad | None = None
) -> ReembedSummary:
    """Embed one batch with `model` and write its vectors: in one statement, or handed to
    `load` (a bulk load of many batches: COPY, the index built after)."""
    summary = ReembedSummary()
    reader = _image_inputs if model.kind == "image" else _text_inputs
    inputs = reader(image_ids, summary)
    if not inputs:
        return summary
    vectors = _vectors(model, [payload for _, _, payload in inputs])
    rows = [
        VectorRow(image_id=image_id, vector=vector, source_sha256=source)
        for (image_id, source, _), vector in zip(inputs, vectors, strict=True)
    ]
    if load is None:
        with reembed_load(model=model, expected_rows=0) as single:
            single.add(rows)
    else:
        load.add(rows)
    summary.embedded = len(rows)
    return summary


def reembed_load(
    *, model: EmbeddingModel, expected_rows: int, min_rows: int | None = None
) -> EmbeddingBulkLoad:
    """The writer of a run of `expected_rows` vectors (`reembed_catalog --sync`): bulk from
    `min_rows` (default `SWATCH["BULK_LOAD_MIN_ROWS"]`), row by row below it."""
    return EmbeddingBulkLoad(
        model=model.name, kind=model.kind, dimensions=model.dimensions,
        expected_rows=expected_rows, min_rows=min_rows,
    )  # fmt: skip


def batches(ids: Sequence[int], size: int) -> list[list[int]]:
    return [list(ids[start : start + size]) for start in range(0, len(ids), max(1, size))]


def reembed_enqueue(*, model: EmbeddingModel, image_ids: Sequence[int], batch_size: int) -> int:
    """One django-q2 task per batch, sent once the current transaction commits."""
    chunks = batches(image_ids, batch_size)

    def send() -> None:
        from django_q.tasks import async_task

        for chunk in chunks:
            async_task(TASK, model.pk, chunk, group=f"reembed {model.name}")

    transaction.on_commit(send)
    return len(chunks)


def reembed_task(model_id: int, image_ids: list[int]) -> str:
    """The worker's side: one batch (a model dropped meanwhile: nothing to do)."""
    model = EmbeddingModel.objects.filter(pk=model_id).first()
    if model is None:
        return "model gone"
    wanted = set(image_ids) - set(
        Embedding.objects.filter(
            image_id__in=image_ids, model=model.name, kind=model.kind
        ).values_list("image_id", flat=True)
    )
    summary = reembed_batch(model=model, image_ids=sorted(wanted))
    for reason in summary.reasons:
        logger.warning("reembed %s: %s", model.name, reason)
    return f"embedded {summary.embedded}, failed {summary.failed}"
