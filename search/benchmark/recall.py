"""Exact nearest neighbours of the synthetic catalog, in numpy, for recall.

The catalog's vectors are in this process (they were generated here and COPY-loaded as they
are), so the exact answer is a brute-force scan of them: the same cosine over the same
float32 values as Postgres's exact scan, without a million-row sort per query in the database
(500 of those at a million items would take longer than the rest of the run).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RECALL_K = 20
_CHUNK = 65536


def exact_top(
    vectors: np.ndarray, queries: np.ndarray, *, k: int = RECALL_K, exclude: Sequence[int] = ()
) -> np.ndarray:
    """Positions (into `vectors`) of each query's `k` nearest by cosine, best first; the
    position `exclude[q]` (the query material itself) left out of query q's when given."""
    queries = np.asarray(queries, dtype=np.float32)
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_positions = np.zeros((len(queries), 0), dtype=np.int64)
    rows = np.arange(len(queries))
    for start in range(0, len(vectors), _CHUNK):
        block = vectors[start : start + _CHUNK]
        scores = queries @ block.T
        for q, position in enumerate(exclude):
            if start <= position < start + len(block):
                scores[q, position - start] = -np.inf
        take = min(k, scores.shape[1])
        part = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        best_scores = np.concatenate([best_scores, scores[rows[:, None], part]], axis=1)
        best_positions = np.concatenate([best_positions, part + start], axis=1)
        keep = np.argsort(-best_scores, axis=1, kind="stable")[:, :k]
        best_scores = best_scores[rows[:, None], keep]
        best_positions = best_positions[rows[:, None], keep]
    return best_positions


def recall_at(
    approximate: Sequence[Sequence[int]], exact: Sequence[Sequence[int]], k: int = RECALL_K
) -> float:
    """Mean share of each query's exact top `k` that the approximate answer found."""
    found = [
        len(set(a[:k]) & set(e[:k])) / len(e[:k])
        for a, e in zip(approximate, exact, strict=True)
        if len(e)
    ]
    return round(float(np.mean(found)), 4) if found else 0.0
