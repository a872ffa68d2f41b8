"""The model providers search uses: the analysis factory's, unless a caller (a test, the
evaluation) supplies its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from analysis.depth import DEFAULT_DEPTH, AnalysisOptions, AtDepth
from analysis.providers.options import offline_links
from analysis.providers.protocols import ImageDescriber, ImageEmbedder, TextEmbedder


@dataclass(frozen=True)
class SearchProviders:
    image_embedder: ImageEmbedder
    text_embedder: TextEmbedder | None
    describer: ImageDescriber | None
    # The model that answers the items the active image model does not cover yet, if any.
    image_fallback: ImageEmbedder | None = None


_override: list[SearchProviders] = []


def search_providers() -> SearchProviders:
    if _override:
        return _override[-1]
    # Imported here: the factory loads model code lazily, and search must import without it.
    from analysis.providers.factory import get_describer
    from analysis.registry.embedders import active_embedder, embedder_for
    from analysis.registry.selectors import active_models

    # The registry's active model of each kind (one read per search: a switch is one commit,
    # so a search is served by the old models or the new ones), else the configured chains.
    active = active_models()
    fallback = active["image"].fallback if "image" in active else None
    return SearchProviders(
        image_embedder=active_embedder("image", active),
        text_embedder=active_embedder("description", active),
        describer=get_describer(),
        image_fallback=embedder_for(fallback) if fallback is not None else None,
    )


@contextmanager
def providers_override(providers: SearchProviders) -> Iterator[SearchProviders]:
    """Serve searches with these providers inside the block (tests, evaluation folds)."""
    _override.append(providers)
    try:
        yield providers
    finally:
        _override.remove(providers)


def _offline_embedder(embedder, capability: str):
    """The offline links of the embedder's chain; the configured offline embedder when it is
    no chain (or a chain without one)."""
    chosen = offline_links(embedder)
    if chosen is not embedder:
        return chosen
    from analysis.providers.factory import get_offline_embedder

    return get_offline_embedder(capability)


def with_analysis_options(providers: SearchProviders, options: AnalysisOptions) -> SearchProviders:
    """The providers a query's `analysis` options leave: `vision: false` no describer (no
    refinement, no model call), a depth other than detailed the describer at that depth,
    `clip: false` the offline embedders (whose vectors the catalog must then have)."""
    describer = providers.describer
    if not options.vision:
        describer = None
    elif describer is not None and options.depth != DEFAULT_DEPTH:
        describer = AtDepth(describer, options.depth)
    image_embedder, text_embedder = providers.image_embedder, providers.text_embedder
    if not options.clip:
        image_embedder = _offline_embedder(image_embedder, "embed_image")
        text_embedder = _offline_embedder(text_embedder, "embed_text") if text_embedder else None
    # The fallback answers what the active model does not cover yet (search.covering): kept,
    # unless the offline embedders answer the whole query anyway.
    return replace(
        providers,
        image_embedder=image_embedder,
        text_embedder=text_embedder,
        describer=describer,
        image_fallback=providers.image_fallback if options.clip else None,
    )
