"""The model providers search uses: the analysis factory's, unless a caller (a test, the
evaluation) supplies its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from analysis.providers.protocols import ImageDescriber, ImageEmbedder, TextEmbedder


@dataclass(frozen=True)
class SearchProviders:
    image_embedder: ImageEmbedder
    text_embedder: TextEmbedder | None
    describer: ImageDescriber | None


_override: list[SearchProviders] = []


def search_providers() -> SearchProviders:
    if _override:
        return _override[-1]
    # Imported here: the factory loads model code lazily, and search must import without it.
    from analysis.providers.factory import get_describer, get_image_embedder, get_text_embedder

    return SearchProviders(
        image_embedder=get_image_embedder(),
        text_embedder=get_text_embedder(),
        describer=get_describer(),
    )


@contextmanager
def providers_override(providers: SearchProviders) -> Iterator[SearchProviders]:
    """Serve searches with these providers inside the block (tests, evaluation folds)."""
    _override.append(providers)
    try:
        yield providers
    finally:
        _override.remove(providers)
