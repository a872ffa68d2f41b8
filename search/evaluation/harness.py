"""A labelled folder as a temporary catalog to query: imported, analysed by the pipeline,
each image's describer trained without the image's group (leave-group-out folds, each filed
under its own model id so no cached description crosses folds). `evaluate_search` and
`fit_relevance` both query it; the catalog is deleted afterwards."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from analysis.ingest import analysis_run_batch
from analysis.pipeline import pipeline_providers
from analysis.providers.protocols import NO_HINTS, DescribeHints, DescriptionResult, ImageDescriber
from analysis.services import analysis_targets_prepare
from materials.importer import catalog_import, collect_items
from materials.intake import embedding_input, image_decode, sha256_hex
from materials.models import MaterialImage
from materials.services import catalog_delete, catalog_get_or_create
from search.providers import SearchProviders
from search.query import MAX_LIMIT, QueryImage, SearchFilters, filters_parse
from search.query_images import query_image_decode
from search.results import SearchResult


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

    def prompt_version_for(self, depth: str) -> str:
        return self.inner.prompt_version_for(depth)

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


@dataclass
class Harness:
    items: list[Labelled]
    pixels: list[Image.Image]
    vectors: np.ndarray  # unit image vectors of the items, as the catalog stores them
    pipeline: Any
    describers: dict[str, ImageDescriber | None]
    info: dict[str, Any]
    in_catalog: SearchFilters

    def providers(self, item: Labelled, *, describe: bool = True) -> SearchProviders:
        return SearchProviders(
            image_embedder=self.pipeline.image_embedder,
            text_embedder=self.pipeline.text_embedder,
            describer=self.describers.get(item.group) if describe else None,
        )


def harness_answers(
    *, harness: Harness, providers: SearchProviders, size: int, **query: Any
) -> tuple[list[SearchResult], Any]:
    """The first `size` results of the whole ranking (no cutoff) and the last answer."""
    from search.query import SearchQuery
    from search.services.run import search_run

    results: list[SearchResult] = []
    answer = None
    refine = "inline" if providers.describer is not None else "never"
    for page in range(1, (size + MAX_LIMIT - 1) // MAX_LIMIT + 1):
        answer = search_run(
            query=SearchQuery(
                filters=harness.in_catalog, limit=MAX_LIMIT, page=page, cutoff=False, **query
            ),
            providers=providers,
            refine=refine,
        )
        results += answer.results
        if len(answer.results) < MAX_LIMIT:
            break
    return results[:size], answer


def query_image(data: bytes) -> QueryImage:
    return query_image_decode(data)


def _labelled(catalog, items_to_import) -> list[Labelled]:
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
    return items


@contextmanager
def labelled_catalog(
    *,
    path: Path,
    labels: Path,
    folds: int = 5,
    on_progress: Callable[[str, int, int], None] | None = None,
    strip: bool = False,
) -> Iterator[Harness]:
    """The folder as a temporary catalog (`strip`: imported without names or categories, so
    only the analysis speaks), deleted on the way out."""
    items_to_import = collect_items(path, labels)
    if not items_to_import:
        raise EvaluationError(f"{path}: no images to evaluate.")
    progress = on_progress or (lambda stage, done, total: None)
    run = uuid.uuid4().hex[:8]
    catalog = catalog_get_or_create(name=f"evaluation-{run}")
    try:
        importing = [_stripped(item) for item in items_to_import] if strip else items_to_import
        imported = catalog_import(catalog=catalog, items=importing)
        pipeline = pipeline_providers()
        ids = analysis_targets_prepare(catalog=catalog, force=False, force_curated=False)
        analysis_run_batch(
            analysis_ids=ids,
            providers=pipeline,
            on_progress=lambda n: progress("analyse", n, len(ids)),
        )
        items = _labelled(catalog, items_to_import)
        if len(items) < 2:
            raise EvaluationError("fewer than two labelled images could be imported.")
        pixels = [image_decode(data=item.data) for item in items]
        vectors = pipeline.image_embedder.embed_images([embedding_input(p) for p in pixels]).vectors
        vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        describers, info = _fold_describers(items, vectors, pipeline.image_embedder, folds, run)
        info.update(imported=imported.imported, skipped=imported.skipped, failed=imported.failed)
        yield Harness(
            items, pixels, vectors, pipeline, describers, info,
            # Only the temporary catalog: another catalog holding the same images (the demo)
            # would answer with copies of the query that carry no label here.
            filters_parse(raw={"catalog": catalog.pk}),
        )  # fmt: skip
    finally:
        catalog_delete(catalog=catalog)


def _stripped(item):
    """No category, and a name that says nothing (not the file's, which often names it)."""
    row = {k: v for k, v in item.row.items() if k not in ("category", "name", "path")}
    row.update(category="", name=f"Sample {sha256_hex(item.path.read_bytes())[:8]}")
    return dataclasses.replace(item, row=row)
