"""`evaluate_search`: import a labelled folder into a temporary catalog, analyse it with the
pipeline, query every image as an upload through the search service, measure, delete.

No label of a query reaches its search: queries are image uploads (never material ids); images
of the query's own `group` are not counted; and the query image's analysis (its material type)
comes from a type classifier trained without the query's group (search/evaluation/harness.py).

Per image: the refined ranking (P@1, P@5, mAP, relevance ECE over its first ten), the fast
answer (the image alone: fast P@1, empty answers), and a phone photo of it (instance recall,
and whether its good-match verdict flips between the phases). Optional: non-material photos
(none may get a good match in either phase) and text queries in a copy of the catalog without
categories or names.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from search.conf import search_config
from search.evaluation.augment import phone_photo
from search.evaluation.extra import nonmaterial_rows, text_precision
from search.evaluation.harness import (
    EvaluationError,
    Harness,
    harness_answers,
    labelled_catalog,
    query_image,
)
from search.evaluation.metrics import average_precision, mean, precision_at
from search.relevance.logistic import expected_calibration_error

__all__ = ["EvaluationError", "search_evaluate"]
FAST_LIMIT = 20  # the fast answer's first page
ECE_TOP = 10


def search_evaluate(
    *,
    path: Path,
    labels: Path,
    folds: int = 5,
    seed: int = 0,
    nonmaterials: Path | None = None,
    text_queries: Path | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    progress = on_progress or (lambda stage, done, total: None)
    with labelled_catalog(path=path, labels=labels, folds=folds, on_progress=progress) as harness:
        rows, calibration = _image_rows(harness, seed, progress)
        extra = nonmaterial_rows(harness, nonmaterials) if nonmaterials else []
        result = _figures(rows)
        result["n_categories"] = len({r["category"] for r in rows})
        result["relevance_ece"] = round(expected_calibration_error(*calibration), 4)
        if nonmaterials:
            result["nonmaterial_good_match_rate"] = mean([r["good"] for r in extra])
            result["n_nonmaterials"] = len(extra)
        flips = [r["flip"] for r in rows] + [r["flip"] for r in extra]
        result["flip_rate"] = mean(flips)
        result["per_category"] = {
            category: _figures([r for r in rows if r["category"] == category])
            for category in sorted({r["category"] for r in rows})
        }
        result["config"] = _config(harness)
    if text_queries:
        result["text_precision_at_5"], result["n_text_queries"] = text_precision(
            path=path, labels=labels, queries=text_queries, on_progress=progress
        )
    return result


def _image_rows(harness: Harness, seed: int, progress) -> tuple[list[dict], tuple[list, list]]:
    items = harness.items
    category_of = {item.material_id: item.category for item in items}
    group_of = {item.material_id: item.group for item in items}
    in_category: dict[str, int] = defaultdict(int)
    for item in items:
        in_category[item.category] += 1
    rng = np.random.default_rng(seed)
    rows, probabilities, outcomes = [], [], []
    for n, (item, pixels) in enumerate(zip(items, harness.pixels, strict=True), start=1):
        image = query_image(item.data)
        refined, answer = harness_answers(
            harness=harness, providers=harness.providers(item), size=len(items), image=image
        )
        others = [r for r in refined if group_of.get(r.material_id) != item.group]
        relevant = [category_of.get(r.material_id) == item.category for r in others]
        probabilities += [r.score for r in others[:ECE_TOP]]
        outcomes += relevant[:ECE_TOP]
        fast, _ = harness_answers(
            harness=harness, providers=harness.providers(item, describe=False),
            size=FAST_LIMIT, image=image,
        )  # fmt: skip
        fast_others = [r for r in fast if group_of.get(r.material_id) != item.group]
        photo = query_image(phone_photo(pixels, rng=rng))
        photo_refined, photo_answer = harness_answers(
            harness=harness, providers=harness.providers(item), size=5, image=photo
        )
        _, photo_fast = harness_answers(
            harness=harness, providers=harness.providers(item, describe=False), size=5,
            image=photo,
        )  # fmt: skip
        same = sum(1 for o in items if o.group == item.group and o.category == item.category)
        rows.append(
            {
                "category": item.category,
                "p1": precision_at(relevant, 1),
                "p5": precision_at(relevant, 5),
                "ap": average_precision(relevant, in_category[item.category] - same),
                "fast_p1": float(
                    bool(fast_others)
                    and category_of.get(fast_others[0].material_id) == item.category
                ),
                "fast_empty": float(not fast_others and in_category[item.category] > same),
                "ir1": float(item.material_id in [r.material_id for r in photo_refined[:1]]),
                "ir5": float(item.material_id in [r.material_id for r in photo_refined[:5]]),
                "flip": float((photo_fast.good_matches > 0) != (photo_answer.good_matches > 0)),
                "type": float(answer.query_description.get("material_type", "") == item.category),
            }
        )
        progress("query", n, len(items))
    return rows, (probabilities, outcomes)


def _figures(selected: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "n_images": len(selected),
        "precision_at_1": mean([r["p1"] for r in selected]),
        "precision_at_5": mean([r["p5"] for r in selected]),
        "map": mean([r["ap"] for r in selected]),
        "instance_recall_at_1": mean([r["ir1"] for r in selected]),
        "instance_recall_at_5": mean([r["ir5"] for r in selected]),
        "fast_precision_at_1": mean([r["fast_p1"] for r in selected]),
        "fast_empty_rate": mean([r["fast_empty"] for r in selected]),
        "type_accuracy": mean([r["type"] for r in selected]),
    }


def _config(harness: Harness) -> dict[str, Any]:
    config = search_config()
    pipeline = harness.pipeline
    return {
        "image_model": pipeline.image_embedder.model,
        "text_model": pipeline.text_embedder.model,
        "catalog_describer": pipeline.describer.model_id,
        "fusion": config.fusion,
        "weights": config.weights,
        "good_match": config.good_match,
        "rrf_k": config.rrf_k,
        "ef_search": config.ef_search,
        "n_categories": len({item.category for item in harness.items}),
        **harness.info,
    }
