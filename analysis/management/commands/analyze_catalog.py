from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from analysis.depth import analysis_options_parse
from analysis.import_runs import analysis_run_here, bulk_line
from analysis.services import analysis_enqueue, analysis_targets_prepare
from materials.management.analysis_arguments import (
    analysis_arguments_add,
    analysis_options_from,
)
from materials.models import Catalog


class Command(BaseCommand):
    help = (
        "Analyse and embed a catalog's images: queue them for the worker (default) or run "
        "inline in batches (--sync). Done analyses are skipped unless --force; curated ones "
        "keep their description unless --force-curated."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--catalog", help="Catalog name (default: every catalog).")
        parser.add_argument(
            "--sync", action="store_true", help="Run here, in batches, instead of queueing."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Analyse done ones again (curated ones only get their embeddings refreshed).",
        )
        parser.add_argument(
            "--force-curated",
            action="store_true",
            help="Also overwrite curated analyses with a new model analysis.",
        )
        parser.add_argument("--batch-size", type=int, default=None, help="Images per batch.")
        analysis_arguments_add(parser)

    def handle(self, *args, **options) -> None:
        catalog = None
        if options["catalog"]:
            catalog = Catalog.objects.filter(name=options["catalog"]).first()
            if catalog is None:
                raise CommandError(f"no catalog named {options['catalog']!r}.")
        if options["batch_size"] is not None and options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        force_curated = options["force_curated"]
        force = options["force"] or force_curated  # a forced run asks the models, not the cache
        ids = analysis_targets_prepare(catalog=catalog, force=force, force_curated=force_curated)
        label = catalog.name if catalog else "all catalogs"
        with tqdm(
            total=len(ids),
            unit="img",
            desc=f"{'analyse' if options['sync'] else 'queue'} {label}",
            file=self.stderr._out,
            disable=None,
        ) as bar:
            asked = analysis_options_from(options)
            if not options["sync"]:
                analysis_enqueue(
                    analysis_ids=ids, force_curated=force_curated, fresh=force, analysis=asked
                )
                bar.update(len(ids))
                self.stdout.write(f"queued {len(ids)} analyses of {label}")
                return
            summary, vectors = analysis_run_here(
                analysis_ids=ids,
                force_curated=force_curated,
                fresh=force,
                batch_size=options["batch_size"],
                on_progress=bar.update,
                options=analysis_options_parse(asked),
            )
        for reason in summary.reasons[:20]:
            self.stderr.write(f"failed: {reason}")
        if bulk_line(vectors):
            self.stderr.write(bulk_line(vectors))
        self.stdout.write(f"analysed {len(ids)} of {label}: {summary.line()}")
