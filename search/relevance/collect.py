"""Training rows for `fit_relevance`, from a labelled catalog queried through the search
service as `evaluate_search` queries it (search/evaluation/harness.py): each image, its
describer trained without its group, searched as an upload; the results of other groups are
labelled relevant when of the query's category. A phone photo of each image adds rows with its
own sample among them (what spatial verification is for). Text queries of our own (not the
development set) give the text rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from materials.intake import embedding_input
from search.evaluation.augment import phone_photo
from search.evaluation.harness import Harness, harness_answers, query_image
from search.query import MAX_LIMIT
from search.relevance.negatives import synthetic_nonmaterials
from search.relevance.ranking import material_features
from search.relevance.typicality import NEIGHBOURS
from search.results import SearchResult

TOP = 30  # rows per answer: what a user sees, and a margin below it
# The fit's phone photos come from a random stream of their own: `evaluate_search` alters each
# image with `default_rng(seed)` in the same order, so the same seed here would fit the
# calibration on the very photos it is then evaluated on.
FIT_PHOTO_STREAM = 0x5EED_F17
STRATEGIES = ("vector", "properties", "semantic")
# Fitting text queries, written for the fit (the development set text_queries.csv is not used).
TEXT_QUERIES = (
    ("oak floorboards", "wood"), ("wooden planks", "wood"), ("walnut veneer", "wood"),
    ("brushed steel", "metal"), ("rusty iron plate", "metal"), ("aluminium sheet", "metal"),
    ("rough grey stone", "stone"), ("slate slabs", "stone"), ("gravel", "stone"),
    ("polished concrete floor", "concrete"), ("raw cement wall", "concrete"),
    ("woollen carpet", "carpet"), ("beige rug", "carpet"), ("green lawn", "grass"),
    ("grass field", "grass"), ("red brick wall", "brick"), ("brickwork", "brick"),
    ("white ceramic tiles", "tile"), ("terracotta floor tiles", "tile"),
    ("linen cloth", "fabric"), ("woven textile", "fabric"), ("tree bark", "bark"),
    ("white marble", "marble"), ("veined marble slab", "marble"),
)  # fmt: skip


@dataclass
class Rows:
    """Per result: the raw score of each strategy (None: not in its list; the floor then),
    inliers, same sample, label, and the query's id (for leave-group-out folds)."""

    kind: str
    features: list[dict[str, float | None]] = field(default_factory=list)
    labels: list[float] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def add(self, results: list[SearchResult], relevant: Callable[[int], bool | None], group):
        floors = {
            name: min((r.scores[name] for r in results if r.scores.get(name) is not None),
                      default=None)
            for name in STRATEGIES
        }  # fmt: skip
        kept = 0
        for result in results:
            label = relevant(result.material_id)
            if label is None:
                continue
            vector = result.explanation["strategies"].get("vector") or {}
            row = {f"{n}_floor": floors[n] for n in STRATEGIES}
            row.update({name: result.scores.get(name) for name in STRATEGIES})
            row["inliers"] = float(np.log1p(vector.get("inliers", 0) or 0))
            row["same_sample"] = 1.0 if result.explanation["matched"].get("same_sample") else 0.0
            row["lead"] = float(vector.get("lead", 0.0) or 0.0)
            self.features.append(row)
            self.labels.append(float(label))
            self.groups.append(group)
            kept += 1
            if kept >= TOP:
                break


def _neighbours(vectors: np.ndarray, query: np.ndarray, keep: np.ndarray) -> list[float]:
    similarities = vectors[keep] @ query
    return np.sort(similarities)[::-1][:NEIGHBOURS].tolist()


def collect(harness: Harness, *, seed: int = 0, negatives: int = 180, progress=None):
    """(fast rows, refined rows, text rows, material features, material labels)."""
    progress = progress or (lambda stage, done, total: None)
    items = harness.items
    category_of = {i.material_id: i.category for i in items}
    group_of = {i.material_id: i.group for i in items}
    groups = np.array([i.group for i in items])
    embedder = harness.pipeline.image_embedder
    fast, refined, text = Rows("image"), Rows("image"), Rows("text")
    material_x: list[dict[str, float]] = []
    material_y: list[float] = []
    rng = fit_photo_rng(seed)
    for n, (item, pixels) in enumerate(zip(items, harness.pixels, strict=True), start=1):

        def other(mid, item=item):
            if group_of.get(mid) == item.group:
                return None
            return category_of.get(mid) == item.category

        def any_of(mid, item=item):
            return category_of.get(mid) == item.category

        image = query_image(item.data)
        photo_data = phone_photo(pixels, rng=rng)
        photo = query_image(photo_data)
        for rows, describe in ((fast, False), (refined, True)):
            providers = harness.providers(item, describe=describe)
            results, _ = harness_answers(
                harness=harness, providers=providers, size=min(len(items), MAX_LIMIT), image=image,
                fusion="relative",
            )  # fmt: skip
            rows.add(results, other, item.group)
            results, _ = harness_answers(
                harness=harness, providers=providers, size=TOP, image=photo, fusion="relative"
            )
            rows.add(results, any_of, item.group)
        vector = harness.vectors[n - 1]
        material_x.append(
            material_features(pixels, _neighbours(harness.vectors, vector, groups != item.group))
        )
        photo_vector = embedder.embed_images([embedding_input(photo.pixels)]).vectors[0]
        photo_vector = photo_vector / np.linalg.norm(photo_vector)
        material_x.append(
            material_features(
                photo.pixels,
                _neighbours(harness.vectors, photo_vector, np.ones(len(groups), dtype=bool)),
            )
        )
        material_y += [1.0, 1.0]
        progress("collect", n, len(items))
    _text_rows(harness, text, category_of)
    _negative_rows(harness, material_x, material_y, count=negatives, seed=seed)
    return fast, refined, text, material_x, material_y


def fit_photo_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng((FIT_PHOTO_STREAM, seed))


def _text_rows(harness: Harness, text: Rows, category_of: dict[int, str]) -> None:
    providers = harness.providers(harness.items[0], describe=False)
    for query, category in TEXT_QUERIES:
        results, _ = harness_answers(
            harness=harness, providers=providers, text=query, fusion="relative",
            size=min(len(harness.items), MAX_LIMIT),
        )  # fmt: skip
        text.add(results, lambda mid, c=category: category_of.get(mid) == c, query)


def _negative_rows(harness, material_x, material_y, *, count: int, seed: int) -> None:
    embedder = harness.pipeline.image_embedder
    images = [image for _, image in synthetic_nonmaterials(count, seed=seed + 1)]
    vectors = embedder.embed_images([embedding_input(image) for image in images]).vectors
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    everything = np.ones(len(harness.vectors), dtype=bool)
    for image, vector in zip(images, vectors, strict=True):
        material_x.append(
            material_features(image, _neighbours(harness.vectors, vector, everything))
        )
        material_y.append(0.0)
