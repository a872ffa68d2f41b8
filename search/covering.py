"""Search while the active image model covers part of the catalog (`activate_embedding_model
--allow-partial`): the items the new model has no vector of yet are answered by the model it
replaced (`EmbeddingModel.fallback`), from a query vector of that model.

The two models' similarities are not comparable, so the lists are merged by rank: the new
model's i-th hit, then the old model's i-th hit among the uncovered materials, and so on.
"""

from __future__ import annotations

from django.db import connection

from analysis.models import EmbeddingKind
from analysis.read_model import embedding_of_kind
from search.encoding import query_image_vector
from search.fusion import Hit
from search.providers import SearchProviders
from search.query import SearchQuery
from search.state import QueryState
from search.strategies.sql import EMBEDDING, IMAGE
from search.strategies.vector import FacetRow, SearchWithRows, vector_search_with_rows

IMAGE_KIND = EmbeddingKind.IMAGE.value


def fallback_encode(*, state: QueryState, query: SearchQuery, providers: SearchProviders) -> None:
    """The query image's vector by the fallback model, when one answers uncovered items."""
    fallback = providers.image_fallback
    if fallback is None or query.image is None:
        return
    state.fallback_model, state.fallback_dimensions = fallback.model, fallback.dimensions
    state.fallback_vector = query_image_vector(
        pixels=query.image.pixels, sha256=query.image.sha256, embedder=fallback
    )


def _covered(*, model: str, material_ids: list[int]) -> set[int]:
    """Which of these materials have an image vector of `model`."""
    if not material_ids:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT mi.material_id FROM {EMBEDDING} e JOIN {IMAGE} mi "  # noqa: S608 - constant tables
            f"ON mi.id = e.image_id WHERE e.model = %s AND {embedding_of_kind('e', IMAGE_KIND)} "
            "AND mi.material_id = ANY(%s)",
            [model, material_ids],
        )
        return {row[0] for row in cursor.fetchall()}


def interleave(first: list[Hit], second: list[Hit], limit: int) -> list[Hit]:
    merged: list[Hit] = []
    for pair in zip(first, second, strict=False):
        merged.extend(pair)
    longer = first if len(first) > len(second) else second
    merged.extend(longer[min(len(first), len(second)) :])
    return merged[:limit]


def covering(state: QueryState, search: SearchWithRows) -> SearchWithRows:
    """`search` (a `vector_search_with_rows` partial of the active model), with the uncovered
    materials answered by the fallback model when the state has its query vector."""
    if state.fallback_vector is None:
        return search

    def run(**kwargs) -> tuple[list[Hit], dict[int, FacetRow]]:
        hits, rows = search(**kwargs)
        keywords = {**search.keywords, **kwargs}  # type: ignore[attr-defined]
        keywords.update(
            vector=state.fallback_vector,
            model=state.fallback_model,
            dimensions=state.fallback_dimensions,
        )
        old, old_rows = vector_search_with_rows(**keywords)
        found = {hit.material_id for hit in hits}
        candidates = [hit for hit in old if hit.material_id not in found]
        covered = _covered(
            model=state.image_model, material_ids=[h.material_id for h in candidates]
        )
        uncovered = [hit for hit in candidates if hit.material_id not in covered]
        return interleave(hits, uncovered, keywords["limit"]), {**rows, **old_rows}

    return run
