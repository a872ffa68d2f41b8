"""Model providers, outbound HTTP, resilience, the cost ledger — and the fallback chains.

`SWATCH_PROVIDERS["CHAINS"]` holds, per capability, the ordered list of providers to try:
the order is the chain (as wagtail's `WAGTAILEMBEDS_FINDERS`). Each entry names the provider
(`name`, also its breaker's and the ledger's), the callable that builds it (`class`), its
keyword `options`, the model it answers with when the settings know it (`model`), whether it is
offline (`offline`: no model API behind it) and the settings it cannot do without
(`requires`: option → variable). `provider_chains` makes the lists from the three choices
`SWATCH_VISION_PROVIDER`, `SWATCH_IMAGE_EMBEDDER`, `SWATCH_TEXT_EMBEDDER`; tests call it again
after changing single keys.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

from config import env

__all__ = ["SWATCH_PROVIDERS"]

VISION_CHOICES = ("openai", "offline")
EMBEDDER_CHOICES = ("offline", "clip-local", "clip-remote")
CLIP_MODEL = "clip-vit-b-32"


def _openai(conf: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "openai",
        "class": "analysis.providers.openai_vision.openai_describer",
        "model": conf["VISION_MODEL"],
        "options": {
            "base_url": conf["VISION_BASE_URL"],
            "model": conf["VISION_MODEL"],
            "api_key": conf["VISION_API_KEY"],
            "timeout": tuple(conf["VISION_TIMEOUT"]),
            "max_tokens": conf["VISION_MAX_TOKENS"],
            "image_max_side": conf["VISION_IMAGE_MAX_SIDE"],
        },
    }


def _clip_remote(conf: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "clip-remote",
        "class": "analysis.providers.clip_remote.remote_clip_embedder",
        "model": CLIP_MODEL,
        "options": {
            "base_url": conf["CLIP_REMOTE_URL"],
            "remote_model": conf["CLIP_REMOTE_MODEL"],
            "model": CLIP_MODEL,
            "api_key": conf["CLIP_REMOTE_API_KEY"],
            "timeout": tuple(conf["CLIP_TIMEOUT"]),
        },
        "requires": {"base_url": "SWATCH_CLIP_REMOTE_URL"},
    }


def _clip_local(conf: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "clip-local",
        "class": "analysis.providers.clip_local.LocalClipEmbedder",
        "model": CLIP_MODEL,
        "options": {"weights_dir": conf["CLIP_WEIGHTS_DIR"], "model": CLIP_MODEL},
        "requires": {"weights_dir": "SWATCH_CLIP_WEIGHTS_DIR"},
    }


def _offline(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"options": {}, **spec, "name": name, "offline": True}


def _embedders(conf: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    setting, variable = {
        "image": ("IMAGE_EMBEDDER", "SWATCH_IMAGE_EMBEDDER"),
        "text": ("TEXT_EMBEDDER", "SWATCH_TEXT_EMBEDDER"),
    }[kind]
    choice = conf[setting]
    if choice not in EMBEDDER_CHOICES:
        raise ImproperlyConfigured(
            f"{variable} must be one of {', '.join(EMBEDDER_CHOICES)}, not {choice!r}."
        )
    offline = _offline(f"offline-{kind}", conf[f"OFFLINE_{kind.upper()}_EMBEDDER"])
    if choice == "clip-local":
        return [_clip_local(conf), offline]
    if choice == "clip-remote":
        local = [_clip_local(conf)] if conf["CLIP_WEIGHTS_DIR"] else []
        return [_clip_remote(conf), *local, offline]
    return [offline]


def provider_chains(conf: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The ordered provider lists of the three capabilities, from the flat settings."""
    vision = conf["VISION"]
    if vision not in VISION_CHOICES:
        raise ImproperlyConfigured(
            f"SWATCH_VISION_PROVIDER must be one of {', '.join(VISION_CHOICES)}, not {vision!r}."
        )
    offline = _offline("offline-analyser", conf["OFFLINE_DESCRIBER"])
    return {
        "describe": [_openai(conf), offline] if vision == "openai" else [offline],
        "embed_image": _embedders(conf, "image"),
        "embed_text": _embedders(conf, "text"),
    }


def with_chains(conf: dict[str, Any]) -> dict[str, Any]:
    """`conf` with its `CHAINS` made from its own choices (settings, and tests' overrides)."""
    return {**conf, "CHAINS": provider_chains(conf)}


# Read by `analysis.providers.factory`, `analysis.http`, `analysis.resilience` and
# `analysis.ledger`; tests override single keys with the `settings` fixture, then `with_chains`.
SWATCH_PROVIDERS = with_chains(
    {
        "VISION": env.get_str(env.VISION_PROVIDER),
        "IMAGE_EMBEDDER": env.get_str(env.IMAGE_EMBEDDER),
        "TEXT_EMBEDDER": env.get_str(env.TEXT_EMBEDDER),
        "VISION_BASE_URL": env.get_str(env.VISION_BASE_URL),
        "VISION_MODEL": env.get_str(env.VISION_MODEL),
        "VISION_API_KEY": env.get_optional(env.VISION_API_KEY),
        "VISION_TIMEOUT": (
            env.get_float(env.VISION_CONNECT_TIMEOUT),
            env.get_float(env.VISION_READ_TIMEOUT),
        ),
        "VISION_MAX_TOKENS": env.get_int(env.VISION_MAX_TOKENS),
        "VISION_IMAGE_MAX_SIDE": env.get_int(env.VISION_IMAGE_MAX_SIDE),
        "CLIP_WEIGHTS_DIR": env.get_optional(env.CLIP_WEIGHTS_DIR),
        "CLIP_REMOTE_URL": env.get_optional(env.CLIP_REMOTE_URL),
        "CLIP_REMOTE_MODEL": env.get_str(env.CLIP_REMOTE_MODEL),
        "CLIP_REMOTE_API_KEY": env.get_optional(env.CLIP_REMOTE_API_KEY),
        "CLIP_TIMEOUT": (
            env.get_float(env.CLIP_CONNECT_TIMEOUT),
            env.get_float(env.CLIP_READ_TIMEOUT),
        ),
        "HTTP_MAX_ATTEMPTS": env.get_int(env.HTTP_MAX_ATTEMPTS),
        "HTTP_BACKOFF_BASE": env.get_float(env.HTTP_BACKOFF_BASE),
        "HTTP_BACKOFF_MAX": env.get_float(env.HTTP_BACKOFF_MAX),
        "HTTP_MAX_RETRY_AFTER": env.get_float(env.HTTP_MAX_RETRY_AFTER),
        "HTTP_MAX_TOTAL_SECONDS": env.get_float(env.HTTP_MAX_TOTAL_SECONDS),
        "BREAKER_FAILURES": env.get_int(env.BREAKER_FAILURES),
        "BREAKER_COOLDOWN": env.get_float(env.BREAKER_COOLDOWN),
        "BREAKER_WINDOW": env.get_int(env.BREAKER_WINDOW),
        "MODEL_PRICES": env.get_str(env.MODEL_PRICES),
        # The offline providers (built lazily: they load weights on first use).
        "OFFLINE_DESCRIBER": {"class": "analysis.providers.offline_analyser.OfflineAnalyser"},
        "OFFLINE_IMAGE_EMBEDDER": {
            "class": "analysis.providers.offline_image.EfficientNetLite0Embedder",
            "model": "efficientnet-lite0",
        },
        "OFFLINE_TEXT_EMBEDDER": {
            "class": "analysis.providers.offline_text.MiniLMTextEmbedder",
            "model": "all-minilm-l6-v2",
        },
    }
)
