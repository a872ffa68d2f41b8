"""`evaluate_search`'s optional parts: non-material photos (no good match may come back, in
either phase) and text queries searched in a copy of the catalog without categories or names
(only the analysis speaks)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from materials.importer import IMAGE_SUFFIXES
from search.evaluation.harness import Harness, harness_answers, labelled_catalog, query_image
from search.evaluation.metrics import mean, precision_at
from search.providers import SearchProviders


def nonmaterial_rows(harness: Harness, folder: Path) -> list[dict[str, Any]]:
    """Per image under `folder`: did the fast or the refined answer call anything good, and
    did the verdict change between them."""
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    pipeline = harness.pipeline
    rows = []
    for file in files:
        image = query_image(file.read_bytes())
        verdicts = []
        for describer in (None, pipeline.describer):
            providers = SearchProviders(
                image_embedder=pipeline.image_embedder,
                text_embedder=pipeline.text_embedder,
                describer=describer,
            )
            _, answer = harness_answers(harness=harness, providers=providers, size=5, image=image)
            verdicts.append(answer.good_matches > 0)
        flip = float(verdicts[0] != verdicts[1])
        rows.append({"file": file.name, "good": float(any(verdicts)), "flip": flip})
    return rows


def text_queries_read(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="") as handle:
        return [
            (row["text"].strip(), row["category"].strip().lower())
            for row in csv.DictReader(handle)
            if row.get("text", "").strip()
        ]


def text_precision(
    *, path: Path, labels: Path, queries: Path, on_progress=None
) -> tuple[float, int]:
    """Mean P@5 of the text queries (CSV: text, category) in a stripped copy of the catalog."""
    wanted = text_queries_read(queries)
    with labelled_catalog(path=path, labels=labels, on_progress=on_progress, strip=True) as harness:
        category_of = {item.material_id: item.category for item in harness.items}
        providers = harness.providers(harness.items[0], describe=False)
        scores = []
        for text, category in wanted:
            results, _ = harness_answers(harness=harness, providers=providers, size=5, text=text)
            scores.append(
                precision_at([category_of.get(r.material_id) == category for r in results], 5)
            )
    return mean(scores), len(scores)
