"""Logistic regression for calibration, pure NumPy: Newton steps (IRLS) with a small L2
penalty, and the expected calibration error of probabilities against outcomes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAX_LOGIT = 30.0


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -MAX_LOGIT, MAX_LOGIT)))


def logit(p, eps: float = 1e-4):
    p = np.clip(p, eps, 1 - eps)
    return np.log(p / (1 - p))


def logistic_fit(
    x: np.ndarray,
    y: np.ndarray,
    *,
    l2: float = 1e-3,
    sample_weight: np.ndarray | None = None,
    iterations: int = 50,
) -> tuple[float, np.ndarray]:
    """Bias and coefficients of P(y=1 | x) = σ(b + x·w). `x` (n, d) should be on unit-ish
    scales; the bias is not penalised."""
    x = np.asarray(x, dtype=np.float64).reshape(len(y), -1)
    y = np.asarray(y, dtype=np.float64)
    weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
    design = np.hstack([np.ones((len(y), 1)), x])
    penalty = np.full(design.shape[1], l2 * weight.sum())
    penalty[0] = 0.0
    beta = np.zeros(design.shape[1])
    for _ in range(iterations):
        p = sigmoid(design @ beta)
        gradient = design.T @ (weight * (p - y)) + penalty * beta
        hessian = (design * (weight * p * (1 - p))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian + 1e-9 * np.eye(len(beta)), gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return float(beta[0]), beta[1:]


def expected_calibration_error(
    probabilities: Sequence[float], outcomes: Sequence[float], *, bins: int = 10
) -> float:
    """Σ over equal-width bins of |mean probability − observed rate|, weighted by count."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    if not len(p):
        return 0.0
    which = np.minimum((p * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += mask.sum() / len(p) * abs(p[mask].mean() - y[mask].mean())
    return float(error)
