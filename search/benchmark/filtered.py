"""Filtered search on the synthetic catalog: a "more like this" restricted by an attribute
filter that keeps 5% (`tier`) or 0.1% (`lot`) of the catalog, through the search service
(vector strategy), against the exact answer among the rows the filter keeps.

The filter value is drawn independently of the query material, as when a designer asks for
materials like this one within another supplier's collection: the hard case for an index
walk, since the nearest rows that pass are not near the query. The relevance cutoff is off:
what is measured is whether `limit` results come back and how many of the true nearest ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from search.benchmark.recall import RECALL_K, exact_top, recall_at
from search.benchmark.synthetic_rows import FILTER_ATTRIBUTES, attribute_mask
from search.benchmark.timing import Latencies
from search.query import SearchQuery, filters_parse
from search.services.run import search_run

FILTERS = {"filter_5pct": "tier", "filter_0_1pct": "lot"}
VECTOR_ONLY = {"vector": 1.0, "properties": 0.0, "semantic": 0.0}
WARMUP = 5


def _query(material_id: int, name: str, value: str, limit: int) -> SearchQuery:
    return SearchQuery(
        material_id=material_id,
        weights=dict(VECTOR_ONLY),
        limit=limit,
        cutoff=False,
        filters=filters_parse(raw={"attributes": {name: value}}),
    )


def _exact_ids(catalog, position: int, name: str, value: str) -> list[int]:
    kept = np.flatnonzero(attribute_mask(name, value, len(catalog.material_ids)))
    own = np.flatnonzero(kept == position)
    top = exact_top(
        catalog.image_vectors[kept],
        catalog.image_vectors[position][None, :],
        k=RECALL_K,
        exclude=own.tolist()[:1],
    )[0]
    return catalog.material_ids[kept[top]].tolist()


def _one_filter(catalog, name: str, *, queries: int, rng, limit: int) -> dict[str, Any]:
    n = len(catalog.material_ids)
    ids = catalog.material_ids.tolist()
    positions = rng.integers(0, n, queries + WARMUP).tolist()
    values = [f"{name[0]}{v}" for v in rng.integers(0, FILTER_ATTRIBUTES[name], queries + WARMUP)]
    timer = Latencies()
    answers = []
    for q, (position, value) in enumerate(zip(positions, values, strict=True)):
        query = _query(ids[position], name, value, limit)
        answer = timer.time(lambda query=query: search_run(query=query, refine="never"))
        if q >= WARMUP:
            answers.append([result.material_id for result in answer.results])
    timer.samples[:] = timer.samples[WARMUP:]
    exact = [
        _exact_ids(catalog, position, name, value)
        for position, value in zip(positions[WARMUP:], values[WARMUP:], strict=True)
    ]
    wanted = [min(limit, len(e)) for e in exact]
    return {
        "kept_share": round(1 / FILTER_ATTRIBUTES[name], 4),
        "kept_rows": n // FILTER_ATTRIBUTES[name],
        "recall_at_20": recall_at(answers, exact),
        "full_pages": round(
            float(np.mean([len(a) >= w for a, w in zip(answers, wanted, strict=True)])), 4
        ),
        **timer.summary(),
    }


def filtered_measure(
    catalog, *, queries: int, seed: int, limit: int, say: Callable[[str], None]
) -> dict[str, Any]:
    """The figures of each filter, from `queries` searches each."""
    rng = np.random.default_rng(seed + 7)
    out = {}
    for key, name in FILTERS.items():
        out[key] = _one_filter(catalog, name, queries=queries, rng=rng, limit=limit)
        say(f"{key}: {out[key]}")
    return out
