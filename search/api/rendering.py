"""An answer in the API's JSON shape, as `SearchAnswerSerializer` (search/api/serializers.py,
the schema's) renders it, built directly: the serializer's field-by-field walk was 2–4 ms of a
20-result answer (bench/profile_search_api.py). tests/search/test_answer_rendering.py holds
the two equal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


# As DRF's fields render: None stays None (Serializer.to_representation), else the type.
def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _strategy_rendered(score: Mapping[str, Any] | None) -> dict | None:
    if score is None:
        return None
    out = {
        "score": _float(score["score"]),
        "rank": _int(score["rank"]),
        "relevance": _float(score["relevance"]),
        "weight": _float(score["weight"]),
    }
    if "inliers" in score:
        out["inliers"] = _int(score["inliers"])
    if "lead" in score:
        out["lead"] = _float(score["lead"])
    return out


def _result_rendered(result) -> dict:
    explanation = result.explanation
    return {
        "material_id": _int(result.material_id),
        "name": _str(result.name),
        "category": _str(result.category),
        "catalog": _str(result.catalog),
        "score": _float(result.score),
        "good": _bool(result.good),
        "scores": {str(k): _float(v) for k, v in result.scores.items()},
        "explanation": {
            "strategies": {
                str(k): _strategy_rendered(v) for k, v in explanation["strategies"].items()
            },
            "matched": {str(k): _bool(v) for k, v in explanation["matched"].items()},
            "verdicts": {str(k): v for k, v in explanation["verdicts"].items()},
            "summary": _str(explanation["summary"]),
        },
        "thumbnail_url": _str(result.thumbnail_url),
    }


def answer_rendered(answer) -> dict:
    """What `SearchAnswerSerializer(answer).data` gives."""
    return {
        "query_id": _str(answer.query_id),
        "phase": answer.phase,
        "refinement": answer.refinement,
        "results": [_result_rendered(result) for result in answer.results],
        "total": _int(answer.total),
        "page": _int(answer.page),
        "limit": _int(answer.limit),
        "no_good_match": _bool(answer.no_good_match),
        "good_matches": _int(answer.good_matches),
        "preliminary": _bool(answer.preliminary),
        "message": _str(answer.message),
        "fusion": _str(answer.fusion),
        "weights": {str(k): _float(v) for k, v in answer.weights.items()},
        "query_description": {str(k): v for k, v in answer.query_description.items()},
        "analysis_note": _str(answer.analysis_note),
    }
