"""Retrieval metrics, pure functions over ranked lists of labels."""

from __future__ import annotations

from collections.abc import Sequence


def precision_at(relevant: Sequence[bool], k: int) -> float:
    top = list(relevant[:k])
    return sum(top) / k if k else 0.0


def average_precision(relevant: Sequence[bool], total_relevant: int) -> float:
    """AP over a ranking; relevant items never retrieved count as misses."""
    if total_relevant == 0:
        return 0.0
    hits, score = 0, 0.0
    for rank, is_relevant in enumerate(relevant, start=1):
        if is_relevant:
            hits += 1
            score += hits / rank
    return score / total_relevant


def mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0
