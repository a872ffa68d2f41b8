"""The settings-driven, cached provider factory and the providers' health."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from analysis.providers import factory
from analysis.providers.openai_vision import OpenAIVisionDescriber
from analysis.resilience.breaker import breaker_for
from analysis.selectors import provider_statuses
from config.settings.providers import with_chains


@pytest.fixture
def conf(settings, db):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "swatch_cache",
            "KEY_PREFIX": f"test-factory-{uuid.uuid4().hex}",
        }
    }
    call_command("createcachetable", verbosity=0)

    def configure(**overrides):
        settings.SWATCH_PROVIDERS = with_chains({**settings.SWATCH_PROVIDERS, **overrides})
        factory.reset_providers()
        return settings.SWATCH_PROVIDERS

    configure()
    yield configure
    factory.reset_providers()
    caches["default"].clear()


def _names(chain) -> list[str]:
    return [link.name for link in chain.links]


def test_the_defaults_are_offline_and_load_nothing(conf):
    conf(VISION="offline", IMAGE_EMBEDDER="offline", TEXT_EMBEDDER="offline")

    describer = factory.get_describer()
    image = factory.get_image_embedder()
    text = factory.get_text_embedder()

    assert _names(describer) == ["offline-analyser"]
    assert _names(image) == ["offline-image"]
    assert _names(text) == ["offline-text"]
    # the model names come from the settings' chain entries; no provider is built yet
    assert image.links[0].known_model == "efficientnet-lite0"
    assert text.links[0].known_model == "all-minilm-l6-v2"
    assert not any(link.built for chain in (describer, image, text) for link in chain.links)


def test_openai_vision_falls_back_to_the_offline_analyser(conf):
    settings = conf(
        VISION="openai",
        VISION_BASE_URL="http://127.0.0.1:9/v1",
        VISION_MODEL="llama3.2-vision:11b",
        VISION_API_KEY="sk-test",
    )

    describer = factory.get_describer()

    assert _names(describer) == ["openai", "offline-analyser"]
    assert describer.model_id == "llama3.2-vision:11b"
    built = describer.links[0].provider()
    assert isinstance(built, OpenAIVisionDescriber)
    assert built.url == "http://127.0.0.1:9/v1/chat/completions"
    assert built.session.policy.read_timeout == settings["VISION_TIMEOUT"][1]


def test_clip_remote_chains_to_local_clip_when_weights_are_configured(conf, tmp_path):
    conf(
        IMAGE_EMBEDDER="clip-remote",
        TEXT_EMBEDDER="clip-remote",
        CLIP_REMOTE_URL="http://127.0.0.1:9/v1",
        CLIP_WEIGHTS_DIR=str(tmp_path),
    )

    assert _names(factory.get_image_embedder()) == ["clip-remote", "clip-local", "offline-image"]
    assert _names(factory.get_text_embedder()) == ["clip-remote", "clip-local", "offline-text"]
    assert factory.get_image_embedder().model == "clip-vit-b-32"


def test_clip_remote_without_local_weights_falls_back_to_offline(conf):
    conf(
        IMAGE_EMBEDDER="clip-remote", CLIP_REMOTE_URL="http://127.0.0.1:9/v1", CLIP_WEIGHTS_DIR=None
    )

    assert _names(factory.get_image_embedder()) == ["clip-remote", "offline-image"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"VISION": "gpt-vision"}, "SWATCH_VISION_PROVIDER"),
        ({"IMAGE_EMBEDDER": "clip"}, "SWATCH_IMAGE_EMBEDDER"),
        ({"IMAGE_EMBEDDER": "clip-remote", "CLIP_REMOTE_URL": None}, "SWATCH_CLIP_REMOTE_URL"),
        ({"IMAGE_EMBEDDER": "clip-local", "CLIP_WEIGHTS_DIR": None}, "SWATCH_CLIP_WEIGHTS_DIR"),
    ],
)
def test_a_wrong_setting_is_a_clear_configuration_error(conf, overrides, message):
    # a wrong choice is refused as the settings load; a missing URL or folder when the chain
    # is built
    def configure_and_build():
        conf(**overrides)
        return factory.get_describer() if "VISION" in overrides else factory.get_image_embedder()

    with pytest.raises(ImproperlyConfigured, match=message):
        configure_and_build()


def test_providers_are_built_once_per_process_until_reset(conf):
    conf(VISION="openai", VISION_BASE_URL="http://127.0.0.1:9/v1")

    first = factory.get_describer()
    assert factory.get_describer() is first
    factory.reset_providers()
    assert factory.get_describer() is not first


def test_provider_statuses_show_each_provider_and_its_circuit(conf):
    # given the vision model configured, and its circuit opened by five failures
    conf(VISION="openai", VISION_BASE_URL="http://127.0.0.1:9/v1", VISION_MODEL="m-vision")
    for _ in range(5):
        breaker_for("openai").record_failure("unavailable")

    statuses = provider_statuses()

    assert statuses[:2] == [
        {
            "capability": "describe",
            "provider": "openai",
            "model": "m-vision",
            "available": False,
            "circuit": "open",
        },
        {
            "capability": "describe",
            "provider": "offline-analyser",
            "model": statuses[1]["model"],
            "available": True,
            "circuit": "closed",
        },
    ]
    assert [s["capability"] for s in statuses[2:]] == ["embed_image", "embed_text"]


def test_a_misconfigured_provider_is_reported_not_raised(conf):
    conf(IMAGE_EMBEDDER="clip-remote", CLIP_REMOTE_URL=None)

    statuses = {s["capability"]: s for s in provider_statuses()}

    assert statuses["embed_image"]["available"] is False
    assert statuses["embed_image"]["circuit"] == "misconfigured"
    assert "SWATCH_CLIP_REMOTE_URL" in statuses["embed_image"]["error"]


def test_healthz_lists_the_providers(conf, client):
    conf(VISION="openai", VISION_BASE_URL="http://127.0.0.1:9/v1")
    for _ in range(5):
        breaker_for("openai").record_failure("timeout")

    answer = client.get("/healthz").json()

    vision = next(p for p in answer["providers"] if p["provider"] == "openai")
    assert vision["available"] is False
    assert vision["circuit"] == "open"
