"""`evaluate_search`: import a labelled folder into a temporary catalog, analyse it with the
pipeline, query every image as an upload through the search service, measure, delete.

No label of a query reaches its search: queries are image uploads (never material ids); images
of the query's own `group` are not counted; and the query image's analysis (its material type)
comes from a type classifier trained without the query's group — leave-group-out folds, each
with its own describer, filed under its own model id so no cached description crosses folds.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from analysis.ingest import analysis_run_batch
from analysis.pipeline import pipeline_providers
from analysis.providers.protocols import (
    NO_HINTS,
    DescribeHints,
    DescriptionResult,
    ImageDescriber,
)
from analysis.services import analysis_targets_prepare
from materials.importer import catalog_import, collect_items
from materials.intake import embedding_input, image_decode, sha256_hex
from materials.models import MaterialImage
from materials.services import catalog_delete, catalog_get_or_create
from search.conf import search_config
from search.evaluation.augment import phone_photo
from search.evaluation.metrics import average_precision, mean, precision_at
from search.providers import SearchProviders
from search.query import MAX_LIMIT, QueryImage, SearchFilters, SearchQuery, filters_parse
from search.services import search_run


class EvaluationError(Exception):
    """The evaluation cannot run (no images, no labels, no working models)."""


@dataclass(frozen=True)
class Labelled:
    material_id: int
    category: str
    group: str
    data: bytes


class FoldDescriber:
    """A describer under a model id of its own, so cached descriptions never cross folds."""

    source = "offline"

    def __init__(self, inner: ImageDescriber, fold: str) -> None:
        self.inner = inner
        self.model_id = f"{inner.model_id}+eval-{fold}"
        self.prompt_version = inner.prompt_version
        self.embedding_model = inner.embedding_model

    def describe(self, image: Image.Image, *, hints: DescribeHints = NO_HINTS) -> DescriptionResult:
        result = self.inner.describe(image, hints=hints)
        return dataclasses.replace(result, model_id=self.model_id)


def _fold_describers(
    items: list[Labelled], vectors: np.ndarray, embedder: Any, folds: int, run: str
) -> tuple[dict[str, ImageDescriber | None], dict[str, Any]]:
    """One describer per group fold, its type classifier trained on the other folds only."""
    try:
        from analysis.offline.classifier import group_folds, type_classifier_fit
        from analysis.providers.offline_analyser import OfflineAnalyser
    except ImportError as exc:
        return {item.group: None for item in items}, {"describer": f"unavailable: {exc}"}
    groups = [item.group for item in items]
    labels = [item.category for item in items]
    fold_of = group_folds(groups, folds)
    describers: dict[str, ImageDescriber | None] = {}
    for fold in np.unique(fold_of):
        train = fold_of != fold
        classifier = type_classifier_fit(
            vectors[train], [labels[i] for i in np.flatnonzero(train)],
            groups=[groups[i] for i in np.flatnonzero(train)],
        )  # fmt: skip
        describer = FoldDescriber(
            OfflineAnalyser(classifier=classifier, embedder=embedder), f"{run}-{fold}"
        )
        for i in np.flatnonzero(~train):
            describers[groups[i]] = describer
    return describers, {"describer": "offline-analyser", "folds": int(len(np.unique(fold_of)))}


def _ranking(
    *, image: QueryImage, providers: SearchProviders, size: int, filters: SearchFilters
) -> tuple[list[int], str]:
    """The full fused ranking for an uploaded image, and the material type it was given."""
    ids: list[int] = []
    description: dict = {}
    for page in range(1, (size + MAX_LIMIT - 1) // MAX_LIMIT + 1):
        answer = search_run(
            query=SearchQuery(
                image=image, filters=filters, limit=MAX_LIMIT, page=page, cutoff=False
            ),
            providers=providers,
            refine="inline",
        )
        ids += [result.material_id for result in answer.results]
        description = answer.query_description
        if len(answer.results) < MAX_LIMIT:
            break
    return ids, description.get("material_type", "")


def search_evaluate(
    *,
    path: Path,
    labels: Path,
    folds: int = 5,
    seed: int = 0,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    items_to_import = collect_items(path, labels)
    if not items_to_import:
        raise EvaluationError(f"{path}: no images to evaluate.")
    run = uuid.uuid4().hex[:8]
    catalog = catalog_get_or_create(name=f"evaluation-{run}")
    try:
        return _evaluate(catalog, items_to_import, folds, seed, run, on_progress)
    finally:
        catalog_delete(catalog=catalog)


def _evaluate(catalog, items_to_import, folds, seed, run, on_progress) -> dict[str, Any]:
    progress = on_progress or (lambda stage, done, total: None)
    imported = catalog_import(catalog=catalog, items=items_to_import)
    pipeline = pipeline_providers()
    ids = analysis_targets_prepare(catalog=catalog, force=False, force_curated=False)
    analysis_run_batch(
        analysis_ids=ids, providers=pipeline, on_progress=lambda n: progress("analyse", n, len(ids))
    )
    by_sha = {
        image.sha256: image.material
        for image in MaterialImage.objects.filter(catalog=catalog).select_related("material")
    }
    items: list[Labelled] = []
    for item in items_to_import:
        data = item.path.read_bytes()
        material = by_sha.get(sha256_hex(data))
        category = (item.row.get("category") or "").strip().lower()
        if material is None or not category:
            continue
        group = item.row.get("group") or f"{item.path}"
        items.append(Labelled(material.pk, category, group, data))
    if len(items) < 2:
        raise EvaluationError("fewer than two labelled images could be imported.")
    embedder = pipeline.image_embedder
    pixels = [image_decode(data=item.data) for item in items]
    vectors = embedder.embed_images([embedding_input(p) for p in pixels]).vectors
    describers, describer_info = _fold_describers(items, vectors, embedder, folds, run)

    group_of = {item.material_id: item.group for item in items}
    category_of = {item.material_id: item.category for item in items}
    in_category = defaultdict(int)
    for item in items:
        in_category[item.category] += 1
    rng = np.random.default_rng(seed)
    # Only the temporary catalog: another catalog holding the same images (the demo) would
    # answer with copies of the query that carry no label here.
    in_catalog = filters_parse(raw={"catalog": catalog.pk})
    rows: list[dict[str, Any]] = []
    for n, (item, image) in enumerate(zip(items, pixels, strict=True), start=1):
        providers = SearchProviders(
            image_embedder=embedder,
            text_embedder=pipeline.text_embedder,
            describer=describers.get(item.group),
        )
        ranking, predicted = _ranking(
            image=QueryImage(image, sha256_hex(item.data)),
            providers=providers,
            size=len(items),
            filters=in_catalog,
        )
        others = [mid for mid in ranking if group_of.get(mid) != item.group]
        relevant = [category_of.get(mid) == item.category for mid in others]
        same_group_same_category = sum(
            1 for other in items if other.group == item.group and other.category == item.category
        )
        photo = phone_photo(image, rng=rng)
        photo_ranking, _ = _ranking(
            image=QueryImage(image_decode(data=photo), sha256_hex(photo)),
            providers=providers,
            size=min(5, len(items)),
            filters=in_catalog,
        )
        rows.append(
            {
                "category": item.category,
                "p1": precision_at(relevant, 1),
                "p5": precision_at(relevant, 5),
                "ap": average_precision(
                    relevant, in_category[item.category] - same_group_same_category
                ),
                "ir1": float(item.material_id in photo_ranking[:1]),
                "ir5": float(item.material_id in photo_ranking[:5]),
                "type": float(predicted == item.category),
            }
        )
        progress("query", n, len(items))

    def figures(selected: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "n_images": len(selected),
            "precision_at_1": mean([r["p1"] for r in selected]),
            "precision_at_5": mean([r["p5"] for r in selected]),
            "map": mean([r["ap"] for r in selected]),
            "instance_recall_at_1": mean([r["ir1"] for r in selected]),
            "instance_recall_at_5": mean([r["ir5"] for r in selected]),
            "type_accuracy": mean([r["type"] for r in selected]),
        }

    config = search_config()
    result = figures(rows)
    result["n_categories"] = len(in_category)
    result["per_category"] = {
        category: figures([r for r in rows if r["category"] == category])
        for category in sorted(in_category)
    }
    result["config"] = {
        "image_model": embedder.model,
        "text_model": pipeline.text_embedder.model,
        "catalog_describer": pipeline.describer.model_id,
        "fusion": config.fusion,
        "weights": config.weights,
        "rrf_k": config.rrf_k,
        "ef_search": config.ef_search,
        "imported": imported.imported,
        "skipped": imported.skipped,
        "failed": imported.failed,
        **describer_info,
    }
    return result
