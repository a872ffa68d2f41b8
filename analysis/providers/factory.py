"""Which providers answer: the chains of `SWATCH_PROVIDERS["CHAINS"]`, built once per
process, lazily.

Each capability has an ordered list of provider entries in settings (made from
`SWATCH_VISION_PROVIDER`, `SWATCH_IMAGE_EMBEDDER`, `SWATCH_TEXT_EMBEDDER` by
`config.settings.providers`); the order is the fallback chain:

    describe:    openai → offline analyser              | offline analyser
    embed image: clip-remote → clip-local* → offline    | clip-local → offline | offline
    embed text:  clip-remote → clip-local* → offline    | clip-local → offline | offline
    (* only when SWATCH_CLIP_WEIGHTS_DIR is set)

An entry's `class` (a class or a function) is imported and called with its `options` only
when the link is first used, so a chain whose primary answers never loads the offline models.
Tests call `reset_providers()` after changing settings.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from analysis.models import ModelCallPurpose
from analysis.providers.chains import FallbackDescriber, FallbackEmbedder
from analysis.providers.fallback import ProviderLink

_lock = threading.Lock()
_chains: dict[str, Any] = {}


def _builder(entry: dict[str, Any]) -> Any:
    path, options = entry["class"], dict(entry.get("options") or {})

    def build() -> Any:
        return import_string(path)(**options)

    return build


def _link(entry: dict[str, Any], *, model_of: Any) -> ProviderLink:
    for option, variable in (entry.get("requires") or {}).items():
        if not (entry.get("options") or {}).get(option):
            raise ImproperlyConfigured(f"{entry['name']} needs {variable}.")
    return ProviderLink(
        name=entry["name"],
        build=_builder(entry),
        model_of=model_of,
        model=entry.get("model"),
        offline=bool(entry.get("offline")),
    )


def chain_links(capability: str) -> list[ProviderLink]:
    """The links of `capability` ("describe", "embed_image", "embed_text"), in order."""
    entries = settings.SWATCH_PROVIDERS["CHAINS"][capability]
    if capability == "describe":
        return [_link(e, model_of=lambda provider: provider.model_id) for e in entries]
    return [_link(e, model_of=lambda provider: provider.model) for e in entries]


def _cached(key: str, build: Any) -> Any:
    with _lock:
        if key not in _chains:
            _chains[key] = build()
        return _chains[key]


def get_describer() -> FallbackDescriber:
    return _cached(
        "describe",
        lambda: FallbackDescriber(chain_links("describe"), purpose=ModelCallPurpose.DESCRIBE),
    )


def get_image_embedder() -> FallbackEmbedder:
    return _cached(
        "embed_image",
        lambda: FallbackEmbedder(chain_links("embed_image"), purpose=ModelCallPurpose.EMBED_IMAGE),
    )


def get_text_embedder() -> FallbackEmbedder:
    return _cached(
        "embed_text",
        lambda: FallbackEmbedder(chain_links("embed_text"), purpose=ModelCallPurpose.EMBED_TEXT),
    )


def reset_providers() -> None:
    """Forget the built chains (tests, or after a settings change)."""
    with _lock:
        _chains.clear()


def get_offline_embedder(capability: str) -> FallbackEmbedder:
    """The offline link of a chain alone (`analysis: {"clip": false}`): no model API."""
    purpose = {
        "embed_image": ModelCallPurpose.EMBED_IMAGE,
        "embed_text": ModelCallPurpose.EMBED_TEXT,
    }
    return _cached(
        f"{capability}:offline",
        lambda: FallbackEmbedder(
            [link for link in chain_links(capability) if link.offline][-1:],
            purpose=purpose[capability],
        ),
    )
