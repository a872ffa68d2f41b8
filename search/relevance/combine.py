"""One relevance in [0, 1] per result, from the strategies' calibrated evidence.

1. Each strategy's raw score → its own logit of relevance (`Calibration.vector`,
   `.properties`, `.semantic`): the vector's from cosine, spatial-verification inliers and
   "same sample"; a result a strategy did not return counts as that strategy's weakest hit.
2. The logits combine in a logistic model fitted for the evidence present (image only;
   image + description; text …): logit = b + Σ c_s · (w_s / w⁰_s) · logit_s, where w_s is the
   request's weight of strategy s and w⁰_s the configured default, so a request that doubles
   a weight doubles that strategy's say. Evidence sets without a fitted model (or an
   uncalibrated model) use the weighted mean of the logits: never surer than its strategies.
3. The result can be no more surely relevant than the query is surely a material:
   relevance = min(σ(logit), P(material)).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from search.fusion import Fused, StrategyScore
from search.relevance.calibration import Calibration, Linear

KEEP_IMAGE_TOP = 10  # the image strategy's first 10 stay in the first 50 …
WITHIN = 50


@dataclass(frozen=True)
class RelevanceInputs:
    calibration: Calibration
    weights: Mapping[str, float]
    default_weights: Mapping[str, float]
    kind: str  # "image" (an image or a material's) or "text"
    material_probability: float | None = None


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, x))))


def vector_features(score: StrategyScore | None, floor: float) -> dict[str, float]:
    if score is None:
        return {"cosine": floor, "inliers": 0.0, "same_sample": 0.0, "lead": 0.0}
    inliers = float(score.details.get("sample_inliers") or 0)
    return {
        "cosine": float(score.score),
        "inliers": math.log1p(inliers),
        "same_sample": 1.0 if score.details.get("same_sample") else 0.0,
        "lead": float(score.details.get("lead") or 0.0),  # the first hit's (vector.py)
    }


def _strategy_logit(
    name: str, score: StrategyScore | None, floor: float, inputs: RelevanceInputs
) -> float | None:
    calibration = inputs.calibration
    if name == "vector":
        if calibration.vector is None:
            return None
        return calibration.vector.logit(vector_features(score, floor))
    model = (calibration.semantic if name == "semantic" else calibration.properties).get(
        inputs.kind
    )
    if model is None:
        return None
    return model.logit({"score": float(score.score) if score is not None else floor})


def _combined(logits: dict[str, float], inputs: RelevanceInputs) -> float:
    key = "+".join(sorted(logits))
    model: Linear | None = inputs.calibration.fusion.get(f"{inputs.kind}:{key}")
    defaults = inputs.default_weights
    share = {
        name: float(inputs.weights.get(name, 0.0)) / (float(defaults.get(name, 0.0)) or 1.0)
        for name in logits
    }
    if model is not None:
        return model.bias + sum(
            model.weights.get(name, 0.0) * share[name] * logit for name, logit in logits.items()
        )
    total = sum(float(inputs.weights.get(name, 0.0)) for name in logits) or 1.0
    return sum(float(inputs.weights.get(n, 0.0)) * v for n, v in logits.items()) / total


def relevance_apply(fused: Sequence[Fused], inputs: RelevanceInputs) -> None:
    """Sets each item's `relevance` and per-strategy `evidence` (probabilities), in place."""
    present = {name for item in fused for name in item.scores}
    floors = {
        name: min(item.scores[name].score for item in fused if name in item.scores)
        for name in present
    }
    cap = inputs.material_probability
    for item in fused:
        logits = {}
        for name in sorted(present):
            value = _strategy_logit(name, item.scores.get(name), floors[name], inputs)
            if value is not None:
                logits[name] = value
        item.evidence = {name: round(sigmoid(v), 4) for name, v in logits.items()}
        relevance = sigmoid(_combined(logits, inputs)) if logits else 0.0
        item.evidence_relevance = relevance
        item.relevance = min(relevance, cap) if cap is not None else relevance


def _same_sample(item: Fused) -> bool:
    vector = item.scores.get("vector")
    return bool(vector is not None and vector.details.get("same_sample"))


def ranked_by_relevance(fused: Sequence[Fused]) -> list[Fused]:
    """By relevance, a verified same sample first: the photo is of that very sample, whatever
    a weaker analysis says about its neighbours. Results the query's P(material) capped to
    one value keep the order of their evidence (not of their ids)."""
    return sorted(
        fused,
        key=lambda f: (not _same_sample(f), -f.relevance, -f.evidence_relevance, f.material_id),
    )


def image_top_kept(ranking: list[Fused], image_hits: Sequence[int]) -> list[Fused]:
    """The ranking with each of the image strategy's first `KEEP_IMAGE_TOP` moved up to
    within the first `WITHIN` if it fell below: refinement re-scores, it does not lose a
    strong visual match."""
    wanted = set(image_hits[:KEEP_IMAGE_TOP])
    head, tail = ranking[:WITHIN], ranking[WITHIN:]
    missing = [item for item in tail if item.material_id in wanted]
    if not missing:
        return ranking
    room = WITHIN - len(missing)
    keep_head = [item for item in head if item.material_id in wanted]
    others = [item for item in head if item.material_id not in wanted]
    dropped = others[room - len(keep_head) :] if room - len(keep_head) < len(others) else []
    others = others[: max(0, room - len(keep_head))]
    new_head = sorted([*keep_head, *others, *missing], key=lambda f: ranking.index(f))
    rest = [item for item in tail if item.material_id not in wanted]
    return [*new_head, *dropped, *rest]
