from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from analysis.registry.embedders import serving
from analysis.registry.selectors import UnknownModel, model_get
from analysis.registry.switch import SwitchRefused, model_activate
from materials.importer import ImportSourceError
from search.evaluation.run import EvaluationError, search_evaluate


def _evaluator(labels: Path, folds: int):
    """`evaluate_search` on the golden set with `row` serving its kind."""

    def evaluate(row) -> dict:
        with serving(row):
            return search_evaluate(path=labels, labels=labels, folds=folds)

    return evaluate


class Command(BaseCommand):
    help = (
        "Switch search and the pipeline to a registered model, for every process at once. "
        "Refused below full coverage unless --allow-partial (the previous model then answers "
        "the items not covered yet); with --require-eval, only if the model is no worse than "
        "the serving one on P@1 and mAP of evaluate_search over that labelled set."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--kind", choices=["image", "description"])
        parser.add_argument("--allow-partial", action="store_true")
        parser.add_argument(
            "--require-eval", type=Path, metavar="LABELS", help="A labels CSV (paths beside it)."
        )
        parser.add_argument("--folds", type=int, default=5)

    def handle(self, *args, **options) -> None:
        labels = options["require_eval"]
        if labels is not None and not labels.is_file():
            raise CommandError(f"{labels}: no such labels file.")
        evaluate = _evaluator(labels, options["folds"]) if labels else None
        try:
            row = model_get(name=options["name"], kind=options["kind"])
            switched = model_activate(
                model=row, allow_partial=options["allow_partial"], evaluate=evaluate
            )
        except (UnknownModel, SwitchRefused, EvaluationError, ImportSourceError) as exc:
            raise CommandError(str(exc)) from exc
        if switched.evaluation:
            for name, (before, after) in switched.evaluation.items():
                self.stdout.write(f"{name}: {before:.3f} → {after:.3f}")
        was = switched.previous.name if switched.previous else "the configured chain"
        self.stdout.write(
            f"{row.name} serves {row.kind} (was {was}); covers {switched.covered} of "
            f"{switched.total}"
            + (f", the rest answered by {row.fallback.name}" if row.fallback_id else "")
        )
