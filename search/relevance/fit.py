"""Fitting the relevance calibration from collected rows (search/relevance/collect.py), and
its model card: leave-group-out estimates of how well calibrated the result is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np

from search.relevance.calibration import VERSION, Linear
from search.relevance.collect import STRATEGIES, Rows
from search.relevance.logistic import expected_calibration_error, logistic_fit, sigmoid
from search.relevance.typicality import FEATURES

FOLDS = 5
VECTOR_FEATURES = ("cosine", "inliers", "same_sample", "lead")


def linear_fit(
    x: Sequence[dict[str, float]], y: Sequence[float], names: Sequence[str], *, l2=1e-3
) -> Linear:
    """A logistic model over standardised features, as a `Linear`."""
    matrix = np.array([[float(row[name]) for name in names] for row in x])
    mean, scale = matrix.mean(0), matrix.std(0)
    scale[scale < 1e-6] = 1.0
    bias, weights = logistic_fit((matrix - mean) / scale, np.asarray(y), l2=l2)
    return Linear(
        bias=round(bias, 6),
        weights={n: round(float(w), 6) for n, w in zip(names, weights, strict=True)},
        mean={n: round(float(m), 6) for n, m in zip(names, mean, strict=True)},
        scale={n: round(float(s), 6) for n, s in zip(names, scale, strict=True)},
    )


def _value(row: dict, name: str) -> float:
    value = row.get(name)
    return float(row[f"{name}_floor"] if value is None else value)


def _vector_x(row: dict) -> dict[str, float]:
    return {
        "cosine": _value(row, "vector"),
        "inliers": row["inliers"],
        "same_sample": row["same_sample"],
        "lead": row.get("lead", 0.0),
    }


def _strategy_models(fast: Rows, refined: Rows, text: Rows) -> dict[str, Any]:
    models: dict[str, Any] = {
        "vector": linear_fit([_vector_x(r) for r in fast.features], fast.labels, VECTOR_FEATURES)
    }
    for kind, rows in (("image", refined), ("text", text)):
        for name in ("properties", "semantic"):
            present = [i for i, r in enumerate(rows.features) if r.get(name) is not None]
            if len({rows.labels[i] for i in present}) < 2:
                continue
            models[f"{name}:{kind}"] = linear_fit(
                [{"score": rows.features[i][name]} for i in present],
                [rows.labels[i] for i in present],
                ["score"],
            )
    return models


def _names(row: dict) -> list[str]:
    """The strategies of the answer the row came from (as `combine` sees them)."""
    return [n for n in STRATEGIES if row.get(f"{n}_floor") is not None]


def _logits(row: dict, models: dict[str, Any], kind: str) -> dict[str, float]:
    out = {}
    for name in _names(row):
        if name == "vector":
            out[name] = models["vector"].logit(_vector_x(row))
        elif f"{name}:{kind}" in models:
            out[name] = models[f"{name}:{kind}"].logit({"score": _value(row, name)})
    return out


MIN_ROWS = 50


def _fusion_fit(rows: Rows, models: dict[str, Any], kind: str) -> dict[str, Linear]:
    """One logistic combination per set of strategies present, over their logits."""
    by_key: dict[str, list[int]] = {}
    logits = [_logits(r, models, kind) for r in rows.features]
    for i, row in enumerate(logits):
        if row:
            by_key.setdefault("+".join(sorted(row)), []).append(i)
    fitted = {}
    for key, index in by_key.items():
        labels = np.array([rows.labels[i] for i in index])
        if len(index) < MIN_ROWS or len(set(labels.tolist())) < 2:
            continue
        names = key.split("+")
        matrix = np.array([[logits[i][n] for n in names] for i in index])
        bias, weights = logistic_fit(matrix, labels, l2=1e-3)
        fitted[f"{kind}:{key}"] = Linear(
            round(bias, 6), {n: round(float(w), 6) for n, w in zip(names, weights, strict=True)}
        )
    return fitted


def _all_fit(fast: Rows, refined: Rows, text: Rows) -> tuple[dict[str, Any], dict[str, Linear]]:
    models = _strategy_models(fast, refined, text)
    fusion: dict[str, Linear] = {}
    for rows, kind in ((fast, "image"), (refined, "image"), (text, "text")):
        fusion.update(_fusion_fit(rows, models, kind))
    return models, fusion


def relevance_predict(row: dict, models, fusion, kind: str) -> float:
    """What `search.relevance.combine` computes for the row (default weights)."""
    logits = _logits(row, models, kind)
    if not logits:
        return 0.0
    model = fusion.get(f"{kind}:{'+'.join(sorted(logits))}")
    if model is None:
        return float(sigmoid(np.mean(list(logits.values()))))
    return float(sigmoid(model.bias + sum(model.weights.get(n, 0) * v for n, v in logits.items())))


def _subset(rows: Rows, keep: np.ndarray) -> Rows:
    idx = np.flatnonzero(keep)
    return Rows(rows.kind, [rows.features[i] for i in idx], [rows.labels[i] for i in idx],
                [rows.groups[i] for i in idx])  # fmt: skip


def _folds(rows: Rows) -> np.ndarray:
    from analysis.offline.classifier import group_folds

    return group_folds(rows.groups, FOLDS) if rows.groups else np.zeros(0, dtype=int)


def cross_validated_ece(fast: Rows, refined: Rows, text: Rows) -> dict[str, float]:
    """Leave-group-out: each fold's rows predicted by models fitted on the other folds (a
    group's fast and refined rows share a fold: the same groups, the same assignment)."""
    folds = {"fast": _folds(fast), "refined": _folds(refined), "text": _folds(text)}
    sets = {"fast": fast, "refined": refined, "text": text}
    predictions: dict[str, list[float]] = {name: [] for name in sets}
    labels: dict[str, list[float]] = {name: [] for name in sets}
    for fold in range(FOLDS):
        models, fusion = _all_fit(
            *(_subset(sets[name], folds[name] != fold) for name in ("fast", "refined", "text"))
        )
        for name, rows in sets.items():
            kind = "text" if name == "text" else "image"
            for i in np.flatnonzero(folds[name] == fold):
                predictions[name].append(relevance_predict(rows.features[i], models, fusion, kind))
                labels[name].append(rows.labels[i])
    return {
        name: round(expected_calibration_error(predictions[name], labels[name]), 4) for name in sets
    }


def calibration_fit(
    *, fast: Rows, refined: Rows, text: Rows, material_x, material_y, image_model: str,
    text_model: str, good_match: float, source: str,
) -> dict[str, Any]:  # fmt: skip
    """The calibration file's content."""
    models, fusion = _all_fit(fast, refined, text)
    material = linear_fit(material_x, material_y, FEATURES, l2=1e-2)
    predictions = [relevance_predict(r, models, fusion, "image") for r in refined.features]
    good = np.array(predictions) >= good_match
    precision = float(np.mean(np.array(refined.labels)[good])) if good.any() else None
    return {
        "version": VERSION,
        "good_match": good_match,
        "image_models": {
            image_model: {
                "vector": models["vector"].as_data(),
                "material": material.as_data(),
                "fusion": {k: v.as_data() for k, v in fusion.items()},
            }
        },
        "text_models": {
            text_model: {
                "semantic": {
                    kind: models[f"semantic:{kind}"].as_data()
                    for kind in ("image", "text")
                    if f"semantic:{kind}" in models
                }
            }
        },
        "properties": {
            kind: models[f"properties:{kind}"].as_data()
            for kind in ("image", "text")
            if f"properties:{kind}" in models
        },
        "card": {
            "fitted_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "source": source,
            "relevant_means": "a result of the query's category (same material), another group",
            "rows": {
                "fast": len(fast.labels),
                "refined": len(refined.labels),
                "text": len(text.labels),
            },
            "material_rows": {
                "material": int(sum(material_y)),
                "synthetic_nonmaterial": int(len(material_y) - sum(material_y)),
            },
            "leave_group_out_ece": cross_validated_ece(fast, refined, text),
            "good_match_precision_on_fit_rows": None if precision is None else round(precision, 4),
            "limits": "fitted on one small catalog of textures; a catalog of another kind or "
            "another embedding model needs its own fit (manage.py fit_relevance).",
        },
    }
