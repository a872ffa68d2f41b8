from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from analysis.offline import weights as w
from analysis.offline.classifier import ClassifierError, type_classifier_card_write
from analysis.offline.training import (
    TrainingDataError,
    labelled_images_embed,
    labelled_images_read,
    type_classifier_card,
    type_classifier_train,
)
from analysis.providers.offline_image import EfficientNetLite0Embedder
from analysis.providers.protocols import ProviderError


class Command(BaseCommand):
    help = (
        "Retrain the offline analyser's material-type classifier from a labelled folder: "
        "prints leave-group-out accuracy and ECE, writes the weights and their model card."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path, help="Folder of images (or the CSV's base).")
        parser.add_argument(
            "--labels", type=Path, help="CSV with path, category, group (else sub-folders)."
        )
        parser.add_argument(
            "--out",
            type=Path,
            default=w.WEIGHTS_DIR / w.TYPE_CLASSIFIER,
            help="Weights file (.npz); the card is written beside it as .json.",
        )
        parser.add_argument(
            "--folds",
            type=int,
            default=10,
            help="Group folds for the evaluation; 0 = leave-one-group-out (slower).",
        )

    def handle(self, *args, **options) -> None:
        path: Path = options["path"]
        labels: Path | None = options["labels"]
        out: Path = options["out"]
        folds = options["folds"] or None
        if labels is not None and not labels.is_file():
            raise CommandError(f"{labels}: no such labels file.")
        if out.suffix != ".npz":
            raise CommandError(f"{out}: the weights file must end in .npz")
        embedder = EfficientNetLite0Embedder()
        try:
            data = labelled_images_read(path, labels)
            with tqdm(
                total=len(data.paths), unit="img", desc="embed", file=self.stderr._out
            ) as bar:
                vectors, data = labelled_images_embed(
                    data, embedder=embedder, on_progress=bar.update
                )
            n_folds = len(set(data.groups)) if folds is None else folds
            with tqdm(total=n_folds, unit="fold", desc="evaluate", file=self.stderr._out) as bar:
                classifier, evaluation = type_classifier_train(
                    vectors,
                    data,
                    folds=folds,
                    embedder_model=embedder.model,
                    on_fold=lambda: bar.update(1),
                )
        except (TrainingDataError, ClassifierError, ProviderError) as exc:
            raise CommandError(str(exc)) from exc
        for skipped in data.skipped:
            self.stderr.write(f"skipped {skipped}")
        card = type_classifier_card(
            classifier=classifier,
            evaluation=evaluation,
            data=data,
            source=path,
            labels_csv=labels,
            folds=folds,
        )
        classifier.save(out)
        type_classifier_card_write(out.with_suffix(".json"), card)
        for name, figures in evaluation.per_class.items():
            self.stdout.write(
                f"  {name:<10} n={figures['n']:<3} accuracy {figures['accuracy']:.2f}"
            )
        low, high = evaluation.ece_noise_floor
        self.stdout.write(
            f"leave-group-out ({card['evaluation']['protocol'].split(':')[0]}): "
            f"accuracy {evaluation.accuracy:.3f}, ECE {evaluation.ece:.3f} "
            f"(uncalibrated {evaluation.ece_uncalibrated:.3f}; a perfectly calibrated "
            f"classifier would show {low:.3f}, p95 {high:.3f}), T={classifier.temperature:.2f}"
        )
        self.stdout.write(f"wrote {out} and {out.with_suffix('.json')}")
