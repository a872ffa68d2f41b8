"""Which providers answer, from settings — built once per process, lazily.

`SWATCH_VISION_PROVIDER` = openai | offline, `SWATCH_IMAGE_EMBEDDER` and
`SWATCH_TEXT_EMBEDDER` = offline | clip-local | clip-remote (default: everything offline). Each
getter returns a fallback chain (see `analysis.providers.fallback`):

    describe:    openai → offline analyser              | offline analyser
    embed image: clip-remote → clip-local* → offline    | clip-local → offline | offline
    embed text:  clip-remote → clip-local* → offline    | clip-local → offline | offline
    (* only when SWATCH_CLIP_WEIGHTS_DIR is set)

The offline providers are named by dotted path in settings and imported only when first used,
so a chain whose primary answers never loads them. Tests call `reset_providers()` after
changing settings.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from analysis.models import ModelCallPurpose
from analysis.providers.fallback import FallbackDescriber, FallbackEmbedder, ProviderLink

VISION_CHOICES = ("openai", "offline")
EMBEDDER_CHOICES = ("offline", "clip-local", "clip-remote")
CLIP_MODEL = "clip-vit-b-32"

_lock = threading.Lock()
_chains: dict[str, Any] = {}


def _conf() -> dict[str, Any]:
    return settings.SWATCH_PROVIDERS


def _offline_link(name: str, setting: str) -> ProviderLink:
    path = _conf()[setting]

    def build() -> Any:
        return import_string(path)()

    return ProviderLink(name=name, build=build, model=_class_model(path))


def _class_model(path: str) -> str | None:
    """The model name a provider class declares, without building it (None: unknown yet)."""
    try:
        cls = import_string(path)
    except ImportError:
        return None
    value = getattr(cls, "model", None) or getattr(cls, "model_id", None)
    return value if isinstance(value, str) else None


def _openai_link() -> ProviderLink:
    from analysis.http import provider_session
    from analysis.providers.openai_vision import OpenAIVisionDescriber

    conf = _conf()

    def build() -> OpenAIVisionDescriber:
        return OpenAIVisionDescriber(
            base_url=conf["VISION_BASE_URL"],
            model=conf["VISION_MODEL"],
            session=provider_session(
                "openai", timeout=tuple(conf["VISION_TIMEOUT"]), api_key=conf["VISION_API_KEY"]
            ),
            max_tokens=conf["VISION_MAX_TOKENS"],
            image_max_side=conf["VISION_IMAGE_MAX_SIDE"],
        )

    return ProviderLink(name="openai", build=build, model=conf["VISION_MODEL"])


def _clip_remote_link() -> ProviderLink:
    from analysis.http import provider_session
    from analysis.providers.clip_remote import RemoteClipEmbedder

    conf = _conf()
    if not conf.get("CLIP_REMOTE_URL"):
        raise ImproperlyConfigured("clip-remote needs SWATCH_CLIP_REMOTE_URL.")

    def build() -> RemoteClipEmbedder:
        return RemoteClipEmbedder(
            base_url=conf["CLIP_REMOTE_URL"],
            remote_model=conf["CLIP_REMOTE_MODEL"],
            model=CLIP_MODEL,
            session=provider_session(
                "clip-remote",
                timeout=tuple(conf["CLIP_TIMEOUT"]),
                api_key=conf.get("CLIP_REMOTE_API_KEY"),
            ),
        )

    return ProviderLink(name="clip-remote", build=build, model=CLIP_MODEL)


def _clip_local_link(*, required: bool) -> ProviderLink | None:
    from analysis.providers.clip_local import LocalClipEmbedder

    weights = _conf().get("CLIP_WEIGHTS_DIR")
    if not weights:
        if required:
            raise ImproperlyConfigured("clip-local needs SWATCH_CLIP_WEIGHTS_DIR.")
        return None
    return ProviderLink(
        name="clip-local",
        build=lambda: LocalClipEmbedder(weights, model=CLIP_MODEL),
        model=CLIP_MODEL,
    )


def describer_links() -> list[ProviderLink]:
    choice = _conf()["VISION"]
    if choice not in VISION_CHOICES:
        raise ImproperlyConfigured(
            f"SWATCH_VISION_PROVIDER must be one of {', '.join(VISION_CHOICES)}, not {choice!r}."
        )
    offline = _offline_link("offline-analyser", "OFFLINE_DESCRIBER")
    return [_openai_link(), offline] if choice == "openai" else [offline]


def embedder_links(kind: str) -> list[ProviderLink]:
    """The chain for `kind` = "image" or "text"."""
    setting, variable = {
        "image": ("IMAGE_EMBEDDER", "SWATCH_IMAGE_EMBEDDER"),
        "text": ("TEXT_EMBEDDER", "SWATCH_TEXT_EMBEDDER"),
    }[kind]
    choice = _conf()[setting]
    if choice not in EMBEDDER_CHOICES:
        raise ImproperlyConfigured(
            f"{variable} must be one of {', '.join(EMBEDDER_CHOICES)}, not {choice!r}."
        )
    offline = _offline_link(
        f"offline-{kind}", "OFFLINE_IMAGE_EMBEDDER" if kind == "image" else "OFFLINE_TEXT_EMBEDDER"
    )
    links: list[ProviderLink | None] = [offline]
    if choice == "clip-local":
        links = [_clip_local_link(required=True), offline]
    elif choice == "clip-remote":
        links = [_clip_remote_link(), _clip_local_link(required=False), offline]
    return [link for link in links if link is not None]


def _cached(key: str, build: Any) -> Any:
    with _lock:
        if key not in _chains:
            _chains[key] = build()
        return _chains[key]


def get_describer() -> FallbackDescriber:
    return _cached("describe", lambda: FallbackDescriber(describer_links()))


def get_image_embedder() -> FallbackEmbedder:
    return _cached(
        "embed_image",
        lambda: FallbackEmbedder(embedder_links("image"), purpose=ModelCallPurpose.EMBED_IMAGE),
    )


def get_text_embedder() -> FallbackEmbedder:
    return _cached(
        "embed_text",
        lambda: FallbackEmbedder(embedder_links("text"), purpose=ModelCallPurpose.EMBED_TEXT),
    )


def reset_providers() -> None:
    """Forget the built chains (tests, or after a settings change)."""
    with _lock:
        _chains.clear()
