from __future__ import annotations

import signal
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from analysis.registry.reembed import (
    batches,
    reembed_batch,
    reembed_enqueue,
    reembed_load,
    reembed_targets,
)
from analysis.registry.selectors import UnknownModel, coverage, coverage_total, model_get
from materials.models import Catalog


class Command(BaseCommand):
    help = (
        "Compute one registered model's vectors for a catalog from the stored images (or, for "
        "a description model, the stored descriptions): nothing is described again and no "
        "other vector changes. Queues django-q2 tasks in batches (default) or runs them here "
        "(--sync). Resumable: a run does only what has no vector of the model yet."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model", required=True, help="A registered model's name.")
        parser.add_argument("--kind", choices=["image", "description"])
        parser.add_argument("--catalog", help="Catalog name (default: every catalog).")
        parser.add_argument("--batch-size", type=int, default=16)
        parser.add_argument("--sync", action="store_true", help="Embed here, batch by batch.")
        parser.add_argument(
            "--bulk-min-rows",
            type=int,
            default=None,
            help="With --sync: from this many vectors on, write them with COPY and build the "
            "model's index after (default: SWATCH_BULK_LOAD_MIN_ROWS).",
        )
        parser.add_argument(
            "--wait", action="store_true", help="After queueing, show progress until covered."
        )

    def handle(self, *args, **options) -> None:
        try:
            model = model_get(name=options["model"], kind=options["kind"])
        except UnknownModel as exc:
            raise CommandError(str(exc)) from exc
        catalog = None
        if options["catalog"]:
            catalog = Catalog.objects.filter(name=options["catalog"]).first()
            if catalog is None:
                raise CommandError(f"no catalog named {options['catalog']!r}.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        ids = reembed_targets(model=model, catalog=catalog)
        label = catalog.name if catalog else "all catalogs"
        if not options["sync"]:
            queued = reembed_enqueue(model=model, image_ids=ids, batch_size=options["batch_size"])
            self.stdout.write(f"queued {len(ids)} images of {label} in {queued} batches")
            if options["wait"]:
                self._wait(model, catalog)
            return
        self._run(model, ids, options["batch_size"], label, options["bulk_min_rows"])

    def _run(self, model, ids: list[int], size: int, label: str, bulk_min_rows) -> None:
        stopping: list[int] = []
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
        embedded = failed = 0
        load = reembed_load(model=model, expected_rows=len(ids), min_rows=bulk_min_rows)
        try:
            with (
                load,
                tqdm(
                    total=len(ids),
                    unit="img",
                    desc=f"reembed {model.name}",
                    file=self.stderr._out,
                    disable=None,
                ) as bar,
            ):
                for chunk in batches(ids, size):
                    if stopping:
                        break
                    summary = reembed_batch(model=model, image_ids=chunk, load=load)
                    embedded, failed = embedded + summary.embedded, failed + summary.failed
                    for reason in summary.reasons:
                        self.stderr.write(f"failed: {reason}")
                    bar.update(len(chunk))
        finally:
            signal.signal(signal.SIGTERM, previous)
        if load.bulk:
            copy, index = load.seconds.get("copy", 0.0), load.seconds.get("index", 0.0)
            self.stderr.write(
                f"bulk load: {load.written} vectors copied in {copy:.1f} s, "
                f"index rebuilt in {index:.1f} s"
            )
        if stopping:
            self.stdout.write(
                f"interrupted: embedded {embedded} of {len(ids)}; run again to resume"
            )
            raise SystemExit(143)
        self.stdout.write(
            f"reembedded {label} with {model.name}: embedded {embedded}, failed {failed}"
        )

    def _wait(self, model, catalog) -> None:
        covered, total = coverage_total(coverage(model=model, catalog=catalog))
        with tqdm(
            total=total,
            initial=covered,
            unit="img",
            desc=f"covered by {model.name}",
            file=self.stderr._out,
            disable=None,
        ) as bar:
            while covered < total:
                time.sleep(1.0)
                now, total = coverage_total(coverage(model=model, catalog=catalog))
                bar.update(now - covered)
                covered = now
        self.stdout.write(f"{model.name} covers {covered} of {total}")
