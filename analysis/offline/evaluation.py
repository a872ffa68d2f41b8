"""How good a material-type classifier is, measured leave-group-out: `type_classifier_evaluate`
trains a fresh classifier (`analysis.offline.classifier`) per fold, so no image is ever
classified by a model that saw its group's labels; accuracy, NLL and the expected calibration
error (ECE), with the ECE a perfectly calibrated classifier would show on as many samples."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analysis.offline.classifier import (
    group_folds,
    softmax,
    training_arrays,
    type_classifier_fit,
)

ECE_BINS = 10


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, *, bins: int = ECE_BINS
) -> float:
    """Top-label ECE: Σ_bins |accuracy − mean confidence| × share of samples, equal-width bins."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    return _binned_error(_bins_of(confidence, bins), correct, confidence)


def _bins_of(confidence: np.ndarray, bins: int) -> np.ndarray:
    """Each sample's equal-width confidence bin, 0..bins-1."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    return np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)


def _binned_error(which: np.ndarray, correct: np.ndarray, confidence: np.ndarray) -> float:
    """Σ over the occupied bins of |accuracy − mean confidence| × the bin's share of samples."""
    error = 0.0
    for b in np.unique(which):
        members = which == b
        error += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(error)


def ece_noise_floor(
    confidences: np.ndarray, *, trials: int = 2000, seed: int = 0, bins: int = ECE_BINS
) -> tuple[float, float]:
    """Mean and 95th percentile of the ECE a *perfectly* calibrated classifier would show with
    these confidences and this many samples: the sampling noise any measured ECE carries."""
    rng = np.random.default_rng(seed)
    which = _bins_of(confidences, bins)
    values = [
        _binned_error(which, rng.random(len(confidences)) < confidences, confidences)
        for _ in range(trials)
    ]
    return float(np.mean(values)), float(np.percentile(values, 95))


@dataclass(frozen=True)
class Evaluation:
    n: int
    folds: int
    accuracy: float
    ece: float
    ece_uncalibrated: float
    nll: float
    ece_noise_floor: tuple[float, float]
    per_class: dict[str, dict[str, float]]
    classes: tuple[str, ...]
    probabilities: np.ndarray = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "folds": self.folds,
            "accuracy": round(self.accuracy, 4),
            "ece": round(self.ece, 4),
            "ece_uncalibrated": round(self.ece_uncalibrated, 4),
            "nll": round(self.nll, 4),
            "ece_perfectly_calibrated_mean": round(self.ece_noise_floor[0], 4),
            "ece_perfectly_calibrated_p95": round(self.ece_noise_floor[1], 4),
            "per_class": self.per_class,
        }


def type_classifier_evaluate(
    vectors: np.ndarray,
    labels: Sequence[str],
    *,
    groups: Sequence[str],
    folds: int | None = 10,
    seed: int = 0,
    on_fold: Any = None,
    **fit_options: Any,
) -> Evaluation:
    """Group-k-fold (`folds=None`: leave-one-group-out) accuracy and ECE of calibrated
    probabilities. Each outer fold trains and calibrates its own classifier on the other groups."""
    x, classes, index, group_list = training_arrays(vectors, labels, groups)
    fold = group_folds(group_list, folds, seed=seed)
    probabilities = np.zeros((len(x), len(classes)))
    raw = np.zeros_like(probabilities)
    for f in np.unique(fold):
        train, test = fold != f, fold == f
        train_labels = [labels[i] for i in np.flatnonzero(train)]
        classifier = type_classifier_fit(
            x[train],
            train_labels,
            groups=[group_list[i] for i in np.flatnonzero(train)],
            seed=seed,
            **fit_options,
        )
        # A class absent from the training folds gets probability 0 for this fold's images.
        columns = [classes.index(c) for c in classifier.classes]
        probabilities[np.ix_(np.flatnonzero(test), columns)] = classifier.predict_proba(x[test])
        raw[np.ix_(np.flatnonzero(test), columns)] = softmax(classifier.logits(x[test]))
        if on_fold is not None:
            on_fold()
    predicted = probabilities.argmax(axis=1)
    per_class = {}
    for i, name in enumerate(classes):
        members = index == i
        per_class[name] = {
            "n": int(members.sum()),
            "accuracy": round(float((predicted[members] == i).mean()), 4),
        }
    return Evaluation(
        n=len(x),
        folds=len(np.unique(fold)),
        accuracy=float((predicted == index).mean()),
        ece=expected_calibration_error(probabilities, index),
        ece_uncalibrated=expected_calibration_error(raw, index),
        nll=float(-np.log(probabilities[np.arange(len(x)), index] + 1e-12).mean()),
        ece_noise_floor=ece_noise_floor(probabilities.max(axis=1), seed=seed),
        per_class=per_class,
        classes=classes,
        probabilities=probabilities,
    )
