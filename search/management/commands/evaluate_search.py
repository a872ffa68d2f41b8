from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from materials.importer import ImportSourceError
from search.evaluation.judged import JudgementsError, judged_evaluate
from search.evaluation.run import EvaluationError, search_evaluate

KEY_ORDER = (
    "n_images",
    "n_categories",
    "precision_at_1",
    "precision_at_5",
    "map",
    "instance_recall_at_1",
    "instance_recall_at_5",
    "fast_precision_at_1",
    "fast_empty_rate",
    "flip_rate",
    "nonmaterial_good_match_rate",
    "n_nonmaterials",
    "relevance_ece",
    "text_precision_at_5",
    "n_text_queries",
    "type_accuracy",
    "per_category",
    "config",
)


class Command(BaseCommand):
    help = (
        "Evaluate search on a labelled folder: import it into a temporary catalog, query every "
        "image as an upload (leave-group-out), print the figures as JSON, delete the catalog. "
        "With --judgements (export_feedback_labels' JSON lines): replay those queries against "
        "the current catalog and measure how the searchers' judgements rank."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path, nargs="?", help="Folder of labelled images.")
        parser.add_argument("--labels", type=Path, help="labels.csv (with PATH)")
        parser.add_argument(
            "--judgements", type=Path, help="Judgements (JSON lines) of export_feedback_labels."
        )
        parser.add_argument("--json", type=Path, dest="json_out", help="Also write the JSON here.")
        parser.add_argument("--folds", type=int, default=5, help="Leave-group-out folds.")
        parser.add_argument("--seed", type=int, default=0, help="Seed of the photo alterations.")
        parser.add_argument(
            "--nonmaterials",
            type=Path,
            help="Folder of photos that are not materials: none may get a good match.",
        )
        parser.add_argument(
            "--text-queries",
            type=Path,
            dest="text_queries",
            help="CSV (text, category): P@5 in a copy of the catalog without categories or names.",
        )

    def handle(self, *args, **options) -> None:
        if options["judgements"] is not None:
            self._judged(options)
            return
        if options["path"] is None or options["labels"] is None:
            raise CommandError("Give PATH and --labels, or --judgements FILE.")
        if not options["labels"].is_file():
            raise CommandError(f"{options['labels']}: no such labels file.")
        if options["nonmaterials"] and not options["nonmaterials"].is_dir():
            raise CommandError(f"{options['nonmaterials']}: no such folder.")
        if options["text_queries"] and not options["text_queries"].is_file():
            raise CommandError(f"{options['text_queries']}: no such file.")
        bars: dict[str, tqdm] = {}

        def progress(stage: str, done: int, total: int) -> None:
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(
                    total=total, desc=stage, unit="img", file=self.stderr._out, disable=None
                )
            bar.update(done - bar.n if stage == "query" else done)

        try:
            result = search_evaluate(
                path=options["path"],
                labels=options["labels"],
                folds=options["folds"],
                seed=options["seed"],
                nonmaterials=options["nonmaterials"],
                text_queries=options["text_queries"],
                on_progress=progress,
            )
        except (EvaluationError, ImportSourceError) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            for bar in bars.values():
                bar.close()
        self._write({key: result[key] for key in KEY_ORDER if key in result}, options)

    def _judged(self, options) -> None:
        try:
            result = judged_evaluate(options["judgements"])
        except JudgementsError as exc:
            raise CommandError(str(exc)) from exc
        self._write(result, options)

    def _write(self, result: dict, options) -> None:
        text = json.dumps(result, indent=2)
        if options["json_out"]:
            options["json_out"].parent.mkdir(parents=True, exist_ok=True)
            options["json_out"].write_text(text + "\n")
        self.stdout.write(text)
