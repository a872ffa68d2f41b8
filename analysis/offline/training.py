"""Train the material-type classifier from a labelled folder and describe it in a model card."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from analysis.description import MATERIAL_TYPES, SYNONYMS
from analysis.offline.classifier import (
    DEFAULT_L2,
    DEFAULT_STEPS,
    TypeClassifier,
    type_classifier_fit,
)
from analysis.offline.evaluation import Evaluation, type_classifier_evaluate
from analysis.providers.protocols import ImageEmbedder
from materials.intake import embedding_input

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
EMBED_CHUNK = 16


class TrainingDataError(Exception):
    """A labelled folder or CSV that cannot train a classifier."""


@dataclass
class LabelledImages:
    paths: list[Path] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _label(raw: str) -> str:
    label = raw.strip().lower()
    return SYNONYMS["material_type"].get(label, label)


def labelled_images_read(folder: Path, labels_csv: Path | None = None) -> LabelledImages:
    """From a CSV (`path` relative to `folder`, `category`, optional `group`) or, without one,
    from sub-folders (folder name = category, every image its own group)."""
    data = LabelledImages()
    if labels_csv is not None:
        try:
            with labels_csv.open(newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise TrainingDataError(f"{labels_csv}: {exc}") from exc
        if not rows or not {"path", "category"} <= set(rows[0]):
            raise TrainingDataError(f"{labels_csv}: needs 'path' and 'category' columns")
        entries = [(folder / r["path"], r["category"], r.get("group") or r["path"]) for r in rows]
    else:
        if not folder.is_dir():
            raise TrainingDataError(f"{folder}: not a folder")
        entries = [
            (p, p.parent.name, str(p.relative_to(folder)))
            for p in sorted(folder.rglob("*"))
            if p.suffix.lower() in IMAGE_SUFFIXES and p.parent != folder
        ]
    unknown = sorted({_label(c) for _, c, _ in entries} - set(MATERIAL_TYPES))
    if unknown:
        raise TrainingDataError(f"labels that are not material types: {', '.join(unknown)}")
    for path, category, group in entries:
        if not path.is_file():
            data.skipped.append(f"{path}: missing")
            continue
        data.paths.append(path)
        data.labels.append(_label(category))
        data.groups.append(group)
    if len(set(data.labels)) < 2:
        raise TrainingDataError("need images of at least two material types")
    return data


def labelled_images_embed(
    data: LabelledImages,
    *,
    embedder: ImageEmbedder,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, LabelledImages]:
    """Embed every readable image; unreadable ones are moved to `skipped`."""
    kept = LabelledImages(skipped=list(data.skipped))
    chunks = []
    for start in range(0, len(data.paths), EMBED_CHUNK):
        images = []
        for i in range(start, min(start + EMBED_CHUNK, len(data.paths))):
            try:
                with Image.open(data.paths[i]) as image:
                    images.append(embedding_input(image.convert("RGB")))
            except (OSError, UnidentifiedImageError) as exc:
                kept.skipped.append(f"{data.paths[i]}: {exc}")
                continue
            kept.paths.append(data.paths[i])
            kept.labels.append(data.labels[i])
            kept.groups.append(data.groups[i])
        if images:
            chunks.append(embedder.embed_images(images).vectors)
        if on_progress is not None:
            on_progress(min(EMBED_CHUNK, len(data.paths) - start))
    if not chunks:
        raise TrainingDataError("no readable images")
    return np.concatenate(chunks), kept


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def type_classifier_card(
    *,
    classifier: TypeClassifier,
    evaluation: Evaluation,
    data: LabelledImages,
    source: Path,
    labels_csv: Path | None,
    folds: int | None,
) -> dict[str, Any]:
    counts = Counter(data.labels)
    return {
        "name": "material-type classifier",
        "kind": "multinomial logistic regression on image embeddings, temperature-calibrated",
        "embedder": {"model": classifier.embedder_model, "dimensions": classifier.dimensions},
        "classes": list(classifier.classes),
        "temperature": round(classifier.temperature, 4),
        "hyperparameters": {
            "l2": classifier.info.get("l2", DEFAULT_L2),
            "steps": classifier.info.get("steps", DEFAULT_STEPS),
            "class_balanced": classifier.info.get("balanced", True),
            "calibration": "temperature fitted on 5 group folds' held-out logits (NLL)",
        },
        "training_set": {
            "folder": str(source),
            "labels": str(labels_csv) if labels_csv else "sub-folder names",
            "labels_sha256": _file_sha256(labels_csv) if labels_csv else None,
            "images": len(data.labels),
            "groups": len(set(data.groups)),
            "per_class": dict(sorted(counts.items())),
            "skipped": len(data.skipped),
        },
        "evaluation": {
            "protocol": (
                "leave-one-group-out"
                if folds is None
                else f"{folds}-fold group split (no group in two folds)"
            )
            + ": each fold trains and calibrates its own classifier on the other groups",
            **evaluation.as_dict(),
            "ece_bins": 10,
        },
        "limits": (
            "Only these classes can be predicted. Trained on about 150 game/graphics textures: "
            "photographs of real samples differ; the calibrated probability is the confidence "
            "that sends unsure analyses to curation."
        ),
        "trained_at": timezone.now().isoformat(timespec="seconds"),
        "command": "python manage.py train_type_classifier PATH --labels CSV",
    }


def type_classifier_train(
    vectors: np.ndarray,
    data: LabelledImages,
    *,
    folds: int | None = 10,
    embedder_model: str,
    on_fold: Callable[[], None] | None = None,
    **fit_options: Any,
) -> tuple[TypeClassifier, Evaluation]:
    evaluation = type_classifier_evaluate(
        vectors,
        data.labels,
        groups=data.groups,
        folds=folds,
        on_fold=on_fold,
        embedder_model=embedder_model,
        **fit_options,
    )
    classifier = type_classifier_fit(
        vectors, data.labels, groups=data.groups, embedder_model=embedder_model, **fit_options
    )
    return classifier, evaluation
