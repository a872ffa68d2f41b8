"""Ingestion throughput with the offline models, beside the raw image embedder, in one run.

    SWATCH_ENV=development python bench/bench_ingest.py [--images N] [--batch-size B]
        [--json bench/results/ingest.json]

Stores N real textures from shared/data in a temporary catalog (intake is not timed), then
on the same images: the raw EfficientNet-Lite0 embedder alone (`embed_images_per_s`), the
offline describer alone, and the whole pipeline as `analyze_catalog --sync` runs it
(`ingest_images_per_s`: load from storage, describe ∥ embed, quality check, text embedding,
one transaction per image), then again with the offline providers called directly, outside
their fallback chain (`ingest_direct_images_per_s`: the describer reuses the pipeline's image
embedding). The cache starts cold (a key prefix of this run) and the catalog,
its rows and its cache entries are removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SHARED = BASE_DIR.parent / "shared" / "data" / "materials" / "images"


def _setup() -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 2) if seconds > 0 else 0.0


def run(*, images: int, batch_size: int) -> dict:
    from django.conf import settings

    # A cold cache of this run alone: no earlier run's embeddings make it look faster.
    settings.CACHES["default"]["KEY_PREFIX"] = f"bench-ingest-{uuid.uuid4().hex[:8]}"
    from django.core.cache import cache
    from django.utils.module_loading import import_string

    from analysis import caching
    from analysis.description import description_parse
    from analysis.ingest import _load_pixels, analysis_run_batch
    from analysis.models import VisualAnalysis
    from analysis.pipeline import PipelineProviders, pipeline_providers
    from analysis.services import analysis_targets_prepare
    from materials.services import (
        catalog_delete,
        catalog_get_or_create,
        material_create_with_image,
    )

    files = sorted(SHARED.rglob("*.png"))[:images]
    if not files:
        raise SystemExit(f"no images under {SHARED}")
    catalog = catalog_get_or_create(name=f"bench-ingest-{uuid.uuid4().hex[:8]}")
    try:
        stored = [
            material_create_with_image(catalog=catalog, data=p.read_bytes(), name=p.stem).image
            for p in files
        ]
        stored = list({image.pk: image for image in stored}.values())
        pixels = [_load_pixels(image) for image in stored]

        providers = pipeline_providers()
        raw = import_string(settings.SWATCH_PROVIDERS["OFFLINE_IMAGE_EMBEDDER"]["class"])()
        describer = import_string(settings.SWATCH_PROVIDERS["OFFLINE_DESCRIBER"]["class"])()
        # Warm-up: weights load and graphs initialise outside the timings.
        raw.embed_images(pixels[:2])
        describer.describe(pixels[0])
        providers.image_embedder.embed_images(pixels[:2])
        providers.describer.describe(pixels[0])
        providers.text_embedder.embed_texts(["warm-up"])

        started = time.perf_counter()
        for start in range(0, len(pixels), batch_size):
            raw.embed_images(pixels[start : start + batch_size])
        embed_s = time.perf_counter() - started

        sample = pixels[: min(len(pixels), 32)]
        started = time.perf_counter()
        for image in sample:
            describer.describe(image)
        describe_s = time.perf_counter() - started

        ids = analysis_targets_prepare(catalog=catalog)
        started = time.perf_counter()
        summary = analysis_run_batch(analysis_ids=ids, batch_size=batch_size)
        ingest_s = time.perf_counter() - started

        # The same, with the offline providers called directly (no fallback chain, breaker or
        # ledger): the describer is then handed the pipeline's embeddings instead of embedding
        # each image again by itself.
        direct = PipelineProviders(
            describer=describer,
            image_embedder=raw,
            text_embedder=import_string(
                settings.SWATCH_PROVIDERS["OFFLINE_TEXT_EMBEDDER"]["class"]
            )(),
        )
        direct.text_embedder.embed_texts(["warm-up"])
        analysis_targets_prepare(catalog=catalog, force=True)
        started = time.perf_counter()
        analysis_run_batch(analysis_ids=ids, providers=direct, batch_size=batch_size, fresh=True)
        direct_s = time.perf_counter() - started

        rows = list(VisualAnalysis.objects.filter(pk__in=ids).select_related("image"))
        result = {
            "images": len(stored),
            "batch_size": batch_size,
            "embed_images_per_s": _rate(len(pixels), embed_s),
            "describe_images_per_s": _rate(len(sample), describe_s),
            "ingest_images_per_s": _rate(len(ids), ingest_s),
            "ingest_direct_images_per_s": _rate(len(ids), direct_s),
            "seconds": {
                "embed": round(embed_s, 3),
                "describe_sample": round(describe_s, 3),
                "ingest": round(ingest_s, 3),
                "ingest_direct": round(direct_s, 3),
            },
            "statuses": dict(Counter(row.status for row in rows)),
            "summary": summary.line(),
            "models": {
                "image": providers.image_embedder.model,
                "text": providers.text_embedder.model,
                "describer": providers.describer.model_id,
            },
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        }
        keys = []
        for row in rows:
            keys.append(
                caching.image_embedding_key(
                    sha256=row.image.sha256, model=providers.image_embedder.model
                )
            )
            keys.append(
                caching.description_key(
                    sha256=row.image.sha256,
                    model_id=row.model_id,
                    prompt_version=row.prompt_version,
                )
            )
            if row.description:
                text = description_parse(row.description).as_text()
                keys.append(
                    caching.text_embedding_key(text=text, model=providers.text_embedder.model)
                )
        cache.delete_many(keys)
        return result
    finally:
        catalog_delete(catalog=catalog)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=156)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--json", type=Path, default=BASE_DIR / "bench" / "results" / "ingest.json")
    args = parser.parse_args()
    _setup()
    result = run(images=args.images, batch_size=args.batch_size)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
