"""Throughput of the raw offline image embedder (EfficientNet-Lite0, onnxruntime) at batch 1, 8
and 32 on the shared textures, in one run so the ratios are comparable; plus the text embedder.

    SWATCH_ENV=development python bench/bench_embedders.py [--images N] [--repeats R]
        [--json bench/results/embedders.json]

Decoding is done before timing; preprocessing (resize, crop) is inside the timed call, as it is
in ingestion. Each batch size is warmed up once, then timed over R passes; the best pass counts
(the least disturbed by other processes on a shared machine), the median is reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SHARED = BASE_DIR.parent / "shared" / "data" / "materials" / "images"


def _setup() -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=BASE_DIR / "bench/results/embedders.json")
    args = parser.parse_args()
    _setup()
    from PIL import Image

    from analysis.providers.offline_image import EfficientNetLite0Embedder
    from analysis.providers.offline_text import MiniLMTextEmbedder

    paths = sorted(SHARED.rglob("*.png"))[: args.images]
    if not paths:
        raise SystemExit(f"no images under {SHARED}")
    images = [Image.open(p).convert("RGB") for p in paths]
    results: dict[str, dict[str, float]] = {}
    for batch in (1, 8, 32):
        embedder = EfficientNetLite0Embedder(batch_size=batch)
        embedder.embed_images(images[:batch])  # load the graph, warm the allocator
        rates = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            embedder.embed_images(images)
            rates.append(len(images) / (time.perf_counter() - start))
        results[f"batch_{batch}"] = {
            "images_per_s": round(max(rates), 1),
            "images_per_s_median": round(statistics.median(rates), 1),
        }
        print(f"batch {batch:>2}: {max(rates):6.1f} img/s (median {statistics.median(rates):.1f})")
    base = results["batch_1"]["images_per_s"]
    texts = [f"{p.parent.name} texture, sample {p.stem.replace('_', ' ')}" for p in paths]
    text_embedder = MiniLMTextEmbedder()
    text_embedder.embed_texts(texts[:2])
    start = time.perf_counter()
    text_embedder.embed_texts(texts)
    texts_per_s = len(texts) / (time.perf_counter() - start)
    print(f"text: {texts_per_s:.1f} texts/s")
    payload = {
        "model": EfficientNetLite0Embedder.model,
        "dimensions": EfficientNetLite0Embedder.dimensions,
        "runtime": "onnxruntime (CPU)",
        "images": len(images),
        "repeats": args.repeats,
        "threads": EfficientNetLite0Embedder(batch_size=1)._session.intra_op_threads,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        **results,
        "ratio_batch_8_to_1": round(results["batch_8"]["images_per_s"] / base, 2),
        "ratio_batch_32_to_1": round(results["batch_32"]["images_per_s"] / base, 2),
        "text_model": MiniLMTextEmbedder.model,
        "texts_per_s": round(texts_per_s, 1),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
