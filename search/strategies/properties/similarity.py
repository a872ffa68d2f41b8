"""How alike two descriptions are: material type (the analysis's, or the material's own
labelled category), colours by CIEDE2000, finish, pattern and texture, each weighted; a field
either side does not know ("unknown", or absent from a text query) neither helps nor hurts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from analysis.colors import delta_e00_many
from analysis.description import CATEGORY_OF_TYPE

WEIGHTS = {"material_type": 0.45, "colors": 0.25, "pattern": 0.12, "finish": 0.08, "texture": 0.1}
# ΔE00 at which two colours no longer count as alike at all (~10 JNDs).
COLOR_DELTA_E_ZERO = 25.0
COLOR_MATCHED = 0.6
GOOD_SCORE = 0.7
# Verdicts in three levels. Colours by the share-weighted ΔE00 of each query colour to its
# nearest: neighbouring colour names lie 10–28 apart (red–rust 10, red–terracotta 11,
# red–orange 26, brown–tan 28), so within 15 a colour "matches" and within 28 it is "close":
# a brick described as orange is close to "red"; red and grey (30) differ.
COLOR_MATCHES_DELTA_E = 15.0
COLOR_CLOSE_DELTA_E = 28.0
MATCHES, CLOSE, DIFFERS = "matches", "close", "differs"


def _colors_similarities(
    query: Sequence[Mapping], candidates: Sequence[Sequence[Mapping]]
) -> list[tuple[float, float] | None]:
    """How close each candidate's colours come to the query's (0..1, None when either has
    none): each query colour by its share, scored by the nearest candidate colour's ΔE00.
    All the pairs in one vectorised ΔE00."""
    labs = [[c["lab"] for c in colors if isinstance(c.get("lab"), list | tuple)]
            for colors in candidates]  # fmt: skip
    if not query or not any(labs):
        return [None] * len(candidates)
    total = sum(float(c.get("share") or 0) for c in query) or float(len(query))
    shares = np.array([float(c.get("share") or 0) or 1.0 for c in query])
    query_labs = np.array([c["lab"] for c in query], dtype=np.float64).reshape(-1, 3)
    flat = np.array([lab for own in labs for lab in own], dtype=np.float64).reshape(-1, 3)
    distances = delta_e00_many(query_labs[:, None, :], flat[None, :, :])  # (query, all)
    counts = [len(own) for own in labs]
    starts = np.cumsum([0, *counts[:-1]])
    present = np.array(counts) > 0
    best = np.minimum.reduceat(distances, starts[present], axis=1)  # (query, candidates)
    scores = (shares[:, None] * np.maximum(0.0, 1.0 - best / COLOR_DELTA_E_ZERO)).sum(0) / total
    deltas = (shares[:, None] * best).sum(0) / shares.sum()
    out: list[tuple[float, float] | None] = [None] * len(candidates)
    for index, score, delta in zip(
        np.flatnonzero(present).tolist(), scores.tolist(), deltas.tolist(), strict=True
    ):
        out[index] = (score, delta)
    return out


def _texture_similarity(query: Mapping, candidate: Mapping) -> float | None:
    if not query or not candidate:
        return None
    parts = []
    if "scale" in query and "scale" in candidate:
        parts.append(1.0 if query["scale"] == candidate["scale"] else 0.0)
    if query.get("direction") not in (None, "none") or candidate.get("direction") not in (
        None,
        "none",
    ):
        parts.append(1.0 if query.get("direction") == candidate.get("direction") else 0.0)
    for key in ("contrast", "regularity"):
        if isinstance(query.get(key), int | float) and isinstance(candidate.get(key), int | float):
            parts.append(1.0 - min(1.0, abs(float(query[key]) - float(candidate[key])) * 2))
    return sum(parts) / len(parts) if parts else None


# A kind of a material type that an analysis may name by the type itself (an offline type
# classifier knows "stone", not "granite").
KIND_OF = {"granite": "stone", "terrazzo": "stone", "ceramic": "tile"}
KIND_SIMILARITY = 0.75


def _type_similarity(query_type: str, candidate_type: str, category: str) -> float:
    if query_type in (candidate_type, category):
        return 1.0
    for other in (candidate_type, category):
        if other and (KIND_OF.get(query_type) == other or KIND_OF.get(other) == query_type):
            return KIND_SIMILARITY
    family = CATEGORY_OF_TYPE.get(query_type)
    if (
        family
        and family != "other"
        and family
        in (
            CATEGORY_OF_TYPE.get(candidate_type),
            CATEGORY_OF_TYPE.get(category),
        )
    ):
        return 0.5
    return 0.0


def description_similarity(
    *, query: Mapping[str, Any], candidate: Mapping[str, Any], category: str = ""
) -> tuple[float, dict[str, bool | None]]:
    """Overlap of two (possibly partial) descriptions, 0..1, and which attributes matched
    (True ✓, False ✗, None: not comparable)."""
    return descriptions_similarity(query=query, candidates=[(candidate, category)])[0]


def descriptions_similarity(
    *, query: Mapping[str, Any], candidates: Sequence[tuple[Mapping[str, Any], str]]
) -> list[tuple[float, dict[str, bool | None]]]:
    """`description_similarity` of the query against many (description, category) pairs; the
    colours of all of them compared at once."""
    colors = _colors_similarities(
        query.get("colors") or [], [candidate.get("colors") or [] for candidate, _ in candidates]
    )
    return [
        _similarity(query, candidate, category, color)
        for (candidate, category), color in zip(candidates, colors, strict=True)
    ]


def _equal_part(value: object, other: object) -> float | None:
    if value and value != "unknown" and other and other != "unknown":
        return 1.0 if value == other else 0.0
    return None


class Matched(dict):
    """Which attributes match (True), differ (False) or cannot be compared (None); its
    `verdicts` say it in three levels (matches / close / differs)."""

    verdicts: dict[str, str | None]


def _level(value: float | None, matches: float, close: float) -> str | None:
    if value is None:
        return None
    return MATCHES if value >= matches else CLOSE if value >= close else DIFFERS


def verdicts_of(parts: Mapping[str, float | None], color_delta: float | None) -> dict:
    """Each attribute as "matches", "close" or "differs" (None: not comparable)."""
    color = None
    if color_delta is not None:
        color = (
            MATCHES
            if color_delta <= COLOR_MATCHES_DELTA_E
            else CLOSE
            if color_delta <= COLOR_CLOSE_DELTA_E
            else DIFFERS
        )
    return {
        "material_type": _level(parts["material_type"], 1.0, 0.5),
        "colors": color,
        "finish": _level(parts["finish"], 1.0, 1.0),
        "pattern": _level(parts["pattern"], 1.0, 1.0),
        "texture": _level(parts["texture"], 0.75, 0.4),
    }


def _similarity(
    query: Mapping[str, Any],
    candidate: Mapping[str, Any],
    category: str,
    color_part: tuple[float, float] | None,
) -> tuple[float, dict[str, bool | None]]:
    colors, color_delta = color_part if color_part is not None else (None, None)
    query_type = query.get("material_type")
    kind = None
    if query_type and query_type != "other":
        kind = _type_similarity(
            query_type, candidate.get("material_type", ""), category.strip().lower()
        )
    finish = _equal_part(query.get("finish"), candidate.get("finish"))
    pattern = _equal_part(query.get("pattern"), candidate.get("pattern"))
    texture = _texture_similarity(query.get("texture") or {}, candidate.get("texture") or {})
    # The weighted mean of the comparable parts, summed in the order of `WEIGHTS`' keys.
    weight = weighted = 0.0
    for key, value in (
        ("material_type", kind),
        ("colors", colors),
        ("finish", finish),
        ("pattern", pattern),
        ("texture", texture),
    ):
        if value is not None:
            weight += WEIGHTS[key]
            weighted += WEIGHTS[key] * value
    parts = {"material_type": kind, "finish": finish, "pattern": pattern, "texture": texture}
    verdicts = verdicts_of(parts, color_delta)
    # The yes/no view (the API's `matched`): only "differs" is a no.
    matched = Matched({key: None if v is None else v != DIFFERS for key, v in verdicts.items()})
    matched.verdicts = verdicts
    return (weighted / weight if weight else 0.0), matched
