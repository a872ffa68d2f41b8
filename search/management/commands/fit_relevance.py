"""`fit_relevance`: fit the relevance calibration on a labelled catalog and write its file."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from materials.importer import ImportSourceError
from search.conf import search_config
from search.evaluation.harness import EvaluationError, labelled_catalog
from search.relevance.calibration import DEFAULT_PATH
from search.relevance.collect import collect
from search.relevance.fit import calibration_fit


class Command(BaseCommand):
    help = (
        "Fit the relevance calibration (each strategy's score as a probability of relevance, "
        "their combination, P(material)) on a labelled folder, leave-group-out, as "
        "evaluate_search queries it; write the calibration file with its model card."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path, help="Folder of labelled images.")
        parser.add_argument("--labels", type=Path, required=True, help="labels.csv")
        parser.add_argument(
            "--out",
            type=Path,
            default=DEFAULT_PATH,
            help=f"Where to write (default {DEFAULT_PATH}).",
        )
        parser.add_argument("--folds", type=int, default=5, help="Leave-group-out folds.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--good-match", type=float, default=None, dest="good_match",
            help="Recorded in the file (default: SWATCH_SEARCH_GOOD_MATCH).",
        )  # fmt: skip

    def handle(self, *args, **options) -> None:
        if not options["labels"].is_file():
            raise CommandError(f"{options['labels']}: no such labels file.")
        good = (
            options["good_match"]
            if options["good_match"] is not None
            else search_config().good_match
        )

        def progress(stage: str, done: int, total: int) -> None:
            if done == total or done % 20 == 0:
                self.stderr.write(f"{stage}: {done}/{total}")

        try:
            with labelled_catalog(
                path=options["path"], labels=options["labels"], folds=options["folds"],
                on_progress=progress,
            ) as harness:  # fmt: skip
                fast, refined, text, material_x, material_y = collect(
                    harness, seed=options["seed"], progress=progress
                )
                data = calibration_fit(
                    fast=fast, refined=refined, text=text, material_x=material_x,
                    material_y=material_y, image_model=harness.pipeline.image_embedder.model,
                    text_model=harness.pipeline.text_embedder.model, good_match=good,
                    source=str(options["path"]),
                )  # fmt: skip
        except (EvaluationError, ImportSourceError) as exc:
            raise CommandError(str(exc)) from exc
        data["card"]["phone_photos"] = (
            f"seed {options['seed']}, a random stream of the fit's own (not evaluate_search's)"
        )
        options["out"].parent.mkdir(parents=True, exist_ok=True)
        options["out"].write_text(json.dumps(data, indent=1) + "\n")
        self.stdout.write(json.dumps(data["card"], indent=2))
