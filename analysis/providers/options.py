"""The analysis options (analysis.depth) applied to the fallback chains: which links a request
leaves, and the depth its describer is asked for. Apart from analysis.depth because the chains
reach the model-call ledger (Django models), while the depth rules are imported by the provider
wire code, which must load without Django (tests/analysis/test_clip_local.py)."""

from __future__ import annotations

from typing import Any

from analysis.depth import DEFAULT_DEPTH, AnalysisOptions, AtDepth
from analysis.providers.chains import FallbackDescriber, FallbackEmbedder


def offline_links(chain: Any) -> Any:
    """A fallback chain's offline links alone (no model API); anything else as it is."""
    if not isinstance(chain, FallbackDescriber | FallbackEmbedder):
        return chain
    links = [link for link in chain.links if link.offline]
    return type(chain)(links, purpose=chain.purpose) if links else chain


def options_applied(
    describer: Any, image_embedder: Any, text_embedder: Any, options: AnalysisOptions
):
    """The (describer, image embedder, text embedder) the options leave of fallback chains:
    `vision: false` the describer chain's offline links only, a depth `AtDepth` (whoever
    describes), `clip: false`
    the embedder chains' offline links only. Providers that are not chains stay as they are."""

    if not options.vision:
        describer = offline_links(describer)
    if options.depth != DEFAULT_DEPTH:  # the offline analyser honours depths too
        describer = AtDepth(describer, options.depth)
    if not options.clip:
        image_embedder, text_embedder = offline_links(image_embedder), offline_links(text_embedder)
    return describer, image_embedder, text_embedder
