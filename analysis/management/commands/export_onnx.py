from __future__ import annotations

from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from PIL import Image

from analysis.offline import weights as w
from analysis.offline.export import ExportError, image_graph_export
from analysis.offline.text_export import text_graph_export

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}


def _sample_images(folder: Path | None, count: int) -> list[Image.Image]:
    if folder is not None and folder.is_dir():
        paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if paths:
            step = max(1, len(paths) // count)
            return [Image.open(p).convert("RGB") for p in paths[::step][:count]]
    # No real images at hand: seeded noise still exercises every layer of the graph.
    rng = np.random.default_rng(0)
    return [
        Image.fromarray(rng.integers(0, 256, (240 + 17 * i, 300, 3), dtype=np.uint8))
        for i in range(count)
    ]


class Command(BaseCommand):
    help = (
        "Export EfficientNet-Lite0 and MiniLM to ONNX (needs requirements-ml.txt: torch) and "
        "check torch vs onnxruntime parity. Writes the files that ship in analysis/weights/."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", type=Path, default=w.WEIGHTS_DIR, help="Output folder.")
        parser.add_argument(
            "--images",
            type=Path,
            default=Path(__file__).resolve().parents[4] / "shared" / "data" / "materials",
            help="Real images for the parity check (default: ../shared/data/materials).",
        )
        parser.add_argument("--only", choices=["image", "text"], help="Export one graph only.")

    def handle(self, *args, **options) -> None:
        out: Path = options["out"]
        out.mkdir(parents=True, exist_ok=True)
        reports = []
        try:
            if options["only"] in (None, "image"):
                images = _sample_images(options["images"], 16)
                reports.append(image_graph_export(out_dir=out, sample_images=images))
            if options["only"] in (None, "text"):
                reports.append(text_graph_export(out_dir=out))
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
        for report in reports:
            for line in report.lines:
                self.stdout.write(line)
            for name, size in report.files.items():
                self.stdout.write(f"wrote {out / name} ({size / 1e6:.1f} MB)")
