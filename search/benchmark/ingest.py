"""Ingestion throughput on real images, beside the raw image embedder on the same images.

The images go into a temporary catalog (intake is not timed); then, timed: the configured
offline image embedder alone (`embed_images_per_s`), and the analysis pipeline as
`analyze_catalog` runs it, fresh (no cached answers): load from storage, describe ∥ embed,
quality check, text embedding, one transaction per image (`ingest_images_per_s`).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from analysis.ingest import analysis_run_batch
from analysis.models import VisualAnalysis
from analysis.pipeline import pipeline_providers
from analysis.services import analysis_targets_prepare
from materials.intake import image_decode
from materials.services import catalog_delete, catalog_get_or_create, material_create_with_image

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}


def ingest_images_find(*, folder: Path, count: int) -> list[Path]:
    """The first `count` images under `folder` (sorted, so every run takes the same ones)."""
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    return files[:count]


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 2) if seconds > 0 else 0.0


def ingest_benchmark(*, paths: list[Path], batch_size: int = 16) -> dict[str, Any]:
    if not paths:
        return {"ingest_images_per_s": None, "embed_images_per_s": None, "ingest": {}}
    catalog = catalog_get_or_create(name=f"bench-search-ingest-{uuid.uuid4().hex[:8]}")
    try:
        stored = {}
        for path in paths:
            data = path.read_bytes()
            created = material_create_with_image(
                catalog=catalog, data=data, name=path.stem, filename=path.name
            )
            stored[created.image.pk] = image_decode(data=data)
        pixels = list(stored.values())
        providers = pipeline_providers()
        raw = import_string(settings.SWATCH_PROVIDERS["OFFLINE_IMAGE_EMBEDDER"]["class"])()
        # Warm-up: weights load and graphs initialise outside the timings.
        raw.embed_images(pixels[:2])
        providers.image_embedder.embed_images(pixels[:2])
        providers.text_embedder.embed_texts(["warm-up"])

        started = time.perf_counter()
        for start in range(0, len(pixels), batch_size):
            raw.embed_images(pixels[start : start + batch_size])
        embed_s = time.perf_counter() - started

        ids = analysis_targets_prepare(images=list(stored))
        started = time.perf_counter()
        summary = analysis_run_batch(
            analysis_ids=ids, providers=providers, fresh=True, batch_size=batch_size
        )
        ingest_s = time.perf_counter() - started
        statuses = Counter(
            VisualAnalysis.objects.filter(pk__in=ids).values_list("status", flat=True)
        )
        return {
            "ingest_images_per_s": _rate(len(ids), ingest_s),
            "embed_images_per_s": _rate(len(pixels), embed_s),
            "ingest": {
                "images": len(pixels),
                "batch_size": batch_size,
                "statuses": dict(statuses),
                "summary": summary.line(),
                "image_model": raw.model,
            },
        }
    finally:
        catalog_delete(catalog=catalog)
