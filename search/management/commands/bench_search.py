from __future__ import annotations

import json
import signal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from config.interpreter import gil_switch_shortened
from config.static_manifest import static_manifest_require
from search.benchmark.ingest import ingest_images_find
from search.benchmark.run import BenchmarkError, search_benchmark
from search.benchmark.variants import SWEEPS

KEY_ORDER = (
    "items",
    "queries",
    "recall_at_20",
    "raw_sql",
    "vector",
    "fused",
    "api",
    "ingest_images_per_s",
    "embed_images_per_s",
)
DEFAULT_JSON = Path(settings.BASE_DIR) / "bench" / "results" / "bench_search.json"
SHARED_IMAGES = Path(settings.BASE_DIR).parent / "shared" / "data" / "materials" / "images"
DEMO_IMAGES = Path(settings.BASE_DIR) / "demo" / "images"


def _interrupt(signum, frame) -> None:
    # SIGTERM cleans up like Ctrl-C: the benchmark's `finally` drops its catalog.
    raise KeyboardInterrupt


def _variants(options) -> frozenset[str] | None:
    if not options["index_variants"]:
        return None
    skip = frozenset(m.strip() for m in options["skip_index_methods"].split(",") if m.strip())
    unknown = skip - set(SWEEPS)
    if unknown:
        raise CommandError(f"--skip-index-methods: unknown {sorted(unknown)}")
    return skip


class Command(BaseCommand):
    help = (
        "Benchmark search on a temporary synthetic catalog (COPY-loaded clustered vectors, HNSW "
        "built after): recall@20 against an exact scan, latency of the pgvector query, the "
        "search service and the HTTP API, filtered search (5% and 0.1% filters), index sizes "
        "and memory, ingestion throughput; prints JSON, then cleans up."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--items", type=int, default=100_000, help="Synthetic materials.")
        parser.add_argument("--queries", type=int, default=500, help="Timed queries per path.")
        parser.add_argument(
            "--json", type=Path, dest="json_out", default=DEFAULT_JSON, help="Write the JSON here."
        )
        parser.add_argument(
            "--ingest-images", type=int, default=32, help="Real images to ingest (0: skip)."
        )
        parser.add_argument(
            "--images",
            type=Path,
            help="Folder of real images for the ingestion figures (default: shared data, "
            "else demo/images).",
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--index-variants",
            action="store_true",
            help="Also compare index methods on the image vectors at matched recall: HNSW, "
            "HNSW on halfvec, StreamingDiskANN (pgvectorscale) and FAISS HNSW (if installed).",
        )
        parser.add_argument(
            "--skip-index-methods",
            default="",
            help="With --index-variants, methods to leave out, comma-separated (hnsw, "
            "hnsw_halfvec, diskann, faiss_hnsw; the configured method's index is the catalog's "
            "own and always measured): DiskANN's single-threaded build takes ~3 min per 100k "
            "vectors here.",
        )

    def handle(self, *args, **options) -> None:
        gil_switch_shortened()  # as the web server's start-up does (config/interpreter.py)
        if options["items"] < 21 or options["queries"] < 1:
            raise CommandError("--items must be at least 21 and --queries at least 1.")
        try:
            # The API path's server refuses to start without it: say so now, not after the load.
            static_manifest_require()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        folder = options["images"] or (SHARED_IMAGES if SHARED_IMAGES.is_dir() else DEMO_IMAGES)
        paths = ingest_images_find(folder=folder, count=max(0, options["ingest_images"]))
        if options["ingest_images"] > 0 and not paths:
            raise CommandError(f"{folder}: no images for the ingestion figures.")
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            result = search_benchmark(
                items=options["items"],
                queries=options["queries"],
                ingest_paths=paths,
                seed=options["seed"],
                variants=_variants(options),
                on_progress=lambda message: self.stderr.write(message),
            )
        except BenchmarkError as exc:
            raise CommandError(str(exc)) from exc
        except KeyboardInterrupt as exc:
            raise CommandError("interrupted; the synthetic catalog was removed.") from exc
        finally:
            signal.signal(signal.SIGTERM, previous)
        ordered = {key: result[key] for key in KEY_ORDER}
        ordered.update({key: value for key, value in result.items() if key not in ordered})
        text = json.dumps(ordered, indent=2)
        out: Path = options["json_out"]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
        self.stdout.write(text)
