from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from materials.importer import ImportSourceError, catalog_import, collect_items
from materials.management.analysis_arguments import (
    analysis_arguments_add,
    analysis_options_from,
)
from materials.models import Catalog
from materials.services import catalog_get_or_create


class Command(BaseCommand):
    help = (
        "Import a folder of images (category = sub-folder name) or the files (`path`) or "
        "http(s) URLs (`url`) a CSV lists. Idempotent by content hash, and an interrupted URL "
        "import resumes without downloading again; bad items are reported and skipped."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "path", type=Path, help="A folder of images, or a CSV with 'path' or 'url'."
        )
        parser.add_argument("--labels", type=Path, help="CSV of labels for a folder import.")
        parser.add_argument("--catalog", default=None, help="Catalog name (created if missing).")
        parser.add_argument(
            "--no-analysis", action="store_true", help="Do not queue analysis of new images."
        )
        parser.add_argument(
            "--sync",
            action="store_true",
            help="Analyse the new images here, in batches, instead of queueing them; from "
            "SWATCH_BULK_LOAD_MIN_ROWS images on, their vectors are COPYed and the vector "
            "indexes built after.",
        )
        analysis_arguments_add(parser)
        parser.add_argument(
            "--concurrency", type=int, default=None, help="Downloads at a time (URL rows)."
        )

    def handle(self, *args, **options) -> None:
        path: Path = options["path"]
        labels: Path | None = options["labels"]
        if options["concurrency"] is not None and options["concurrency"] < 1:
            raise CommandError("--concurrency must be at least 1.")
        if labels is not None and not labels.is_file():
            raise CommandError(f"{labels}: no such labels file.")
        try:
            items = collect_items(path, labels)
        except ImportSourceError as exc:
            raise CommandError(str(exc)) from exc
        name = options["catalog"] or settings.SWATCH["DEMO_CATALOG"]

        with tqdm(
            total=len(items),
            unit="img",
            desc=f"import → {name}",
            file=self.stderr._out,
            disable=None,
        ) as bar:
            summary = catalog_import(
                # made with the first good file: an import where every file fails makes none
                # (an existing one is given as it is: a resumed URL import skips what it has)
                catalog=Catalog.objects.filter(name=name).first()
                or (lambda: catalog_get_or_create(name=name)),
                items=items,
                on_progress=lambda item, outcome: bar.update(1),
                concurrency=options["concurrency"],
                analysis=None if options["no_analysis"] else analysis_options_from(options),
                analysis_here=options["sync"],
            )
        for skipped in summary.skipped_files:
            self.stderr.write(f"skipped {skipped.path}: {skipped.message}")
        for failure in summary.failures:
            self.stderr.write(f"failed {failure.path}: {failure.code}: {failure.message}")
        if summary.queued:
            self.stderr.write(f"queued analysis of {summary.queued} images")
        if summary.analysed:
            self.stderr.write(summary.analysed)
        self.stdout.write(summary.line())
