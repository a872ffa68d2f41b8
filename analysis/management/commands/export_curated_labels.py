from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from analysis.curation.labels import curated_labels_export
from materials.models import Catalog


class Command(BaseCommand):
    help = (
        "Export curated labels (analyses a person corrected or approved) as CSV: one row per "
        "image, keyed by sha256, with the whole description as JSON. Re-import them with "
        "import_curated_labels; train the offline classifier on material_type."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", "-o", help="CSV file to write (default: stdout).")
        parser.add_argument("--catalog", help="Only this catalog's labels.")

    def handle(self, *args, **options) -> None:
        catalog = options["catalog"]
        if catalog is not None and not Catalog.objects.filter(name=catalog).exists():
            raise CommandError(f"no catalog named {catalog!r}.")
        if not options["output"]:
            count = curated_labels_export(out=sys.stdout, catalog_name=catalog)
            self.stderr.write(f"exported {count} curated labels")
            return
        path = Path(options["output"])
        if not path.parent.is_dir():
            raise CommandError(f"folder {path.parent} does not exist.")
        tmp = path.with_name(f".{path.name}.part")
        try:
            with tmp.open("w", newline="", encoding="utf-8") as out:
                count = curated_labels_export(out=out, catalog_name=catalog)
            tmp.replace(path)  # a half-written file never replaces a good one
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from exc
        self.stdout.write(f"exported {count} curated labels to {path}")
