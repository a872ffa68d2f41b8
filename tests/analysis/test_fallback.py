"""Acceptance: the fallback chain over real HTTP. Whatever the vision model or the remote
embedder does — answer, 429, 503, hang, malformed or truncated output, five failures in a
row — the work gets done (by the fallback when needed, `source = offline`), the breaker opens
for every process, and the ledger has one row per provider call."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import caches
from PIL import Image

from analysis.models import ModelCall
from analysis.providers.factory import get_describer, get_image_embedder, reset_providers
from analysis.providers.protocols import DescribeHints, ProviderError
from analysis.query import query_image_embedding
from analysis.resilience.breaker import CircuitState, breaker_for
from config.settings.providers import with_chains
from tests.fakes.openai_server import (
    FakeOpenAIServer,
    Reply,
    fixture,
    rate_limited,
    unavailable,
)
from tests.fakes.processes import run_django

FAKE_KEY = "sk-test-fallback-fake"
VISION = "meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo"
REDIS_URL = "redis://127.0.0.1:6379/0"
SHA = "5e" * 32
HINTS = DescribeHints(image_sha256=SHA)
# The real fallback: the offline analyser.
OFFLINE_DESCRIBER = {"class": "analysis.providers.offline_analyser.OfflineAnalyser"}


@pytest.fixture
def server():
    with FakeOpenAIServer() as fake:
        yield fake


@pytest.fixture
def redis_cache(settings):
    # Redis is the real choice for shared breaker state; a unique prefix keeps runs apart.
    prefix = f"test-fallback-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
    yield prefix
    caches["default"].delete_pattern("*")


@pytest.fixture
def providers(settings, server, redis_cache, db):
    settings.SWATCH_PROVIDERS = with_chains(
        {
            **settings.SWATCH_PROVIDERS,
            "VISION": "openai",
            "VISION_BASE_URL": server.base_url,
            "VISION_API_KEY": FAKE_KEY,
            "VISION_TIMEOUT": (1.0, 0.5),
            "IMAGE_EMBEDDER": "clip-remote",
            "CLIP_REMOTE_URL": server.base_url,
            "CLIP_WEIGHTS_DIR": None,
            "HTTP_MAX_ATTEMPTS": 2,
            "HTTP_BACKOFF_BASE": 0.01,
            "HTTP_BACKOFF_MAX": 0.02,
            "HTTP_MAX_RETRY_AFTER": 1.0,
            "HTTP_MAX_TOTAL_SECONDS": 5.0,
            "BREAKER_FAILURES": 5,
            "BREAKER_COOLDOWN": 60,
            "MODEL_PRICES": f"{VISION}=1.20/1.20",
            "OFFLINE_DESCRIBER": OFFLINE_DESCRIBER,
            "OFFLINE_IMAGE_EMBEDDER": {"class": "tests.fakes.local_providers.PixelEmbedder"},
        }
    )
    reset_providers()
    yield settings.SWATCH_PROVIDERS
    reset_providers()


@pytest.fixture
def photo() -> Image.Image:
    image = Image.new("RGB", (320, 240), (150, 100, 60))
    for x in range(0, 320, 12):
        for y in range(240):
            image.putpixel((x, y), (100, 65, 35))
    return image


def _ledger() -> list[tuple[str, str, str]]:
    return [
        (c.provider, c.outcome, c.error_code)
        for c in ModelCall.objects.order_by("started_at", "id")
    ]


def test_a_good_answer_comes_from_the_model_and_is_recorded(providers, server, photo):
    result = get_describer().describe(photo, hints=HINTS)

    assert result.source == "model"
    assert result.model_id == VISION
    assert result.description.material_type == "wood"
    (call,) = ModelCall.objects.all()
    assert (call.provider, call.model, call.purpose, call.outcome) == (
        "openai",
        VISION,
        "describe",
        "ok",
    )
    assert (call.prompt_tokens, call.completion_tokens) == (1874, 212)
    assert str(call.cost_usd) == "0.002503"
    assert call.image_sha256 == SHA
    assert call.latency_ms >= 0


@pytest.mark.parametrize(
    ("replies", "outcome", "code"),
    [
        ([unavailable(), unavailable()], "error", "unavailable"),
        ([rate_limited(reset="30")], "rate_limited", "rate_limited"),
        ([Reply(delay=2.0), Reply(delay=2.0)], "timeout", "timeout"),
        (
            [
                Reply(body=fixture("together/chat_completion_truncated.json")),
                Reply(body=fixture("together/chat_completion_malformed.json")),
            ],
            "invalid_output",
            "bad_response",
        ),
    ],
    ids=["503", "429-too-long", "hang", "truncated-then-malformed"],
)
def test_the_offline_analyser_takes_over_and_nothing_is_lost(
    providers, server, photo, replies, outcome, code
):
    # given a vision endpoint that fails in one of its ways
    server.script(*replies)

    # when
    result = get_describer().describe(photo, hints=HINTS)

    # then the work is done by the fallback, and the ledger has both calls
    assert result.source == "offline"
    assert result.description.colors
    assert _ledger() == [("openai", outcome, code), ("offline-analyser", "ok", "")]
    assert all(c.image_sha256 == SHA for c in ModelCall.objects.all())


def test_a_429_with_a_short_reset_is_waited_for_and_the_model_answers(providers, server, photo):
    server.script(rate_limited(reset="0.2"), Reply())

    result = get_describer().describe(photo)

    assert result.source == "model"
    assert len(server.requests_to("/v1/chat/completions")) == 2
    assert _ledger() == [("openai", "ok", "")]


def test_the_tokens_of_a_rejected_answer_are_still_counted(providers, server, photo):
    truncated = fixture("together/chat_completion_truncated.json")
    server.script(Reply(body=truncated), Reply(body=truncated))

    get_describer().describe(photo)

    rejected = ModelCall.objects.get(provider="openai")
    assert rejected.completion_tokens == 2 * truncated["usage"]["completion_tokens"]
    assert rejected.cost_usd > 0
    # bad output is not an outage: the circuit stays closed
    assert breaker_for("openai").state() is CircuitState.CLOSED


@pytest.mark.slow
def test_five_failures_in_a_row_open_the_breaker_for_every_process(
    providers, server, photo, redis_cache
):
    # given a vision endpoint that is down
    server.script(*[unavailable() for _ in range(20)])
    describer = get_describer()

    # when five images are described
    sources = [describer.describe(photo).source for _ in range(5)]

    # then all five were done offline, and the circuit is open
    assert sources == ["offline"] * 5
    requests_before = len(server.requests)
    assert requests_before == 5 * providers["HTTP_MAX_ATTEMPTS"]
    assert breaker_for("openai").state() is CircuitState.OPEN

    # and the next call skips the endpoint altogether, recorded as skipped
    assert describer.describe(photo).source == "offline"
    assert len(server.requests) == requests_before
    assert ModelCall.objects.filter(provider="openai", outcome="circuit_open").count() == 1
    assert ModelCall.objects.filter(provider="offline-analyser", outcome="ok").count() == 6

    # and another process, configured like a worker, sees the circuit open too
    code = """
import json
from analysis.selectors import provider_statuses
from analysis.resilience.breaker import breaker_for
print(json.dumps([provider_statuses()[0], breaker_for("openai").allow()]))
"""
    import json

    status, allowed = json.loads(
        run_django(
            code,
            env={
                "REDIS_URL": REDIS_URL,
                "SWATCH_CACHE_PREFIX": redis_cache,
                "SWATCH_VISION_PROVIDER": "openai",
                "SWATCH_VISION_BASE_URL": server.base_url,
            },
        )
    )
    assert status == {
        "capability": "describe",
        "provider": "openai",
        "model": VISION,
        "available": False,
        "circuit": "open",
    }
    assert allowed is False
    assert len(server.requests) == requests_before


def test_remote_clip_answers_with_its_own_model_name(providers, server, photo):
    batch = get_image_embedder().embed_images([photo, photo])

    assert (batch.model, batch.provider, batch.dimensions) == ("clip-vit-b-32", "clip-remote", 512)
    assert batch.vectors.shape == (2, 512)
    assert _ledger() == [("clip-remote", "ok", "")]
    assert ModelCall.objects.get().items == 2


def test_remote_clip_down_falls_back_to_the_offline_embedder_under_its_model_name(
    providers, server, photo
):
    # given a CLIP endpoint that is down
    server.script(unavailable(), unavailable(), unavailable(), unavailable())
    embedder = get_image_embedder()

    # when embedding: the offline embedder answers, and says so
    batch = embedder.embed_images([photo])
    assert (batch.model, batch.provider, batch.dimensions) == (
        "test-pixels-48",
        "offline-image",
        48,
    )
    assert batch.vectors.shape == (1, 48)

    # but a search query, whose vector is compared with the catalog's CLIP vectors, refuses
    # another model's vector
    with pytest.raises(ProviderError, match="could only be embedded by test-pixels-48"):
        query_image_embedding(pixels=photo, sha256=SHA, embedder=embedder)
    assert embedder.model == "clip-vit-b-32"
    assert _ledger() == [
        ("clip-remote", "error", "unavailable"),
        ("offline-image", "ok", ""),
        ("clip-remote", "error", "unavailable"),
        ("offline-image", "ok", ""),
    ]


@pytest.mark.needs_ml
def test_remote_clip_down_falls_back_to_local_clip_of_the_same_model(
    providers, server, photo, tmp_path, settings
):
    from tests.analysis.test_clip_local import _tiny_clip

    _tiny_clip(tmp_path)  # skips when torch is absent
    settings.SWATCH_PROVIDERS = with_chains({**providers, "CLIP_WEIGHTS_DIR": str(tmp_path)})
    reset_providers()
    server.script(unavailable(), unavailable())

    vectors = get_image_embedder().embed_images([photo]).vectors

    assert vectors.shape == (1, 24)  # the tiny CLIP's dimensions
    assert _ledger() == [("clip-remote", "error", "unavailable"), ("clip-local", "ok", "")]


@pytest.mark.slow
def test_model_calls_and_the_open_circuit_are_series_at_metrics(providers, server, photo, settings):
    from django.test import Client

    from tests.metrics_support import scrape

    settings.SWATCH_METRICS = {**settings.SWATCH_METRICS, "TOKEN": "", "ALLOWED_IPS": ["127.0.0.1"]}
    before = scrape(Client())
    # given one good answer of the vision model, then an outage of five failed calls
    server.script(Reply(), *[unavailable() for _ in range(20)])
    describer = get_describer()
    sources = [describer.describe(photo).source for _ in range(6)]
    # and a seventh call, skipped by the open circuit
    describer.describe(photo)

    after = scrape(Client())

    def grew(name, **labels):
        return after.value(name, **labels) - before.value(name, **labels)

    assert sources == ["model"] + ["offline"] * 5
    vision = {"provider": "openai", "purpose": "describe"}
    assert grew("swatch_model_calls_total", **vision, outcome="ok") == 1
    assert grew("swatch_model_calls_total", **vision, outcome="error") == 5
    assert grew("swatch_model_calls_total", **vision, outcome="circuit_open") == 1
    assert grew("swatch_model_calls_total", provider="offline-analyser", outcome="ok") == 6
    # latency of the calls that reached the model; none for the skipped one
    assert grew("swatch_model_call_seconds_count", **vision, outcome="ok") == 1
    assert grew("swatch_model_call_seconds_count", **vision, outcome="circuit_open") == 0
    ok = ModelCall.objects.get(provider="openai", outcome="ok")
    assert grew("swatch_model_cost_usd_total", provider="openai") == pytest.approx(
        float(ok.cost_usd)
    )
    assert grew("swatch_model_tokens_total", provider="openai", kind="prompt") == ok.prompt_tokens
    # the breaker's shared state, read at scrape time
    circuit = {"capability": "describe", "provider": "openai"}
    assert after.value("swatch_circuit_state", **circuit) == 2
    assert after.value("swatch_circuit_open", **circuit) == 1
    offline = {"capability": "describe", "provider": "offline-analyser"}
    assert after.value("swatch_circuit_open", **offline) == 0
