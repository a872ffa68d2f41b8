"""The token-per-hour and embeddings-per-day limits against the local fake of the providers'
wire format (the vision model's chat completions, the CLIP endpoint's embeddings), with a
clock the test moves: counted before each request from its payload, corrected from the
answer's `usage`; over a limit, interactive work is answered offline at once and background
work is deferred (rescheduled, not failed, no request sent). Two worker processes share one
budget: the fake sees exactly what the minute allows."""

from __future__ import annotations

import ast
import io
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from django_q.models import Schedule
from PIL import Image

from analysis.deferral import deferred_schedule_name
from analysis.ingest import analysis_run_batch
from analysis.limits.estimate import request_amounts
from analysis.limits.outbound import outbound_use
from analysis.models import AnalysisStatus, Embedding, ModelCall, VisualAnalysis
from analysis.pipeline import PipelineProviders
from analysis.providers.chains import FallbackDescriber
from analysis.providers.fallback import ProviderLink
from tests.analysis.limits_support import set_limits
from tests.analysis.pipeline_support import (
    HashingTextEmbedder,
    PixelStatsDescriber,
    pending_analyses,
)
from tests.analysis.test_limits_pipeline import CHAT, _chain, _images, _png
from tests.analysis.test_limits_pipeline import clock as clock  # noqa: PLC0414 - a fixture
from tests.fakes.caches import REDIS_URL
from tests.fakes.clip_chain import remote_clip_chain as _clip_chain
from tests.fakes.local_providers import PixelEmbedder
from tests.fakes.openai_server import FakeOpenAIServer, fixture
from tests.fakes.processes import run_django

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_cache")]
EMBEDDINGS = "/v1/embeddings"
USAGE = fixture("together/chat_completion_ok.json")["usage"]  # what the fake answers with
USED = USAGE["prompt_tokens"] + USAGE["completion_tokens"]


def _image(seed: int) -> Image.Image:
    return Image.open(io.BytesIO(_png(seed))).convert("RGB")


def _tokens_used() -> int:
    return {w["window"]: w["used"] for w in outbound_use()["openai"]}["tokens"]


def test_tokens_per_hour_estimated_before_each_request_and_corrected_from_usage(clock, settings):
    with FakeOpenAIServer(clock=clock) as fake:
        describer = _chain(fake.base_url)
        # given the estimate of one request (prompt, image, max_tokens), measured without a limit
        set_limits(settings, "openai", requests=600, tokens=0)
        describer.describe(_image(1))
        [probe] = fake.requests_to(CHAT)
        estimate = request_amounts(probe.body, image_tokens=settings.SWATCH_LIMITS["IMAGE_TOKENS"])[
            "tokens"
        ]
        assert estimate > USED  # max_tokens is reserved, the answer used less
        clock.advance(3660)  # a fresh hour (counted in buckets of a minute)
        # and an hour's limit that holds three answers' usage and one more estimate
        set_limits(settings, "openai", requests=600, tokens=3 * USED + estimate)

        # when five images are described in that hour
        answers = [describer.describe(_image(10 + i)) for i in range(5)]

        # then four went to the model: each counted at its estimate, then at its usage (by
        # estimates alone only three would fit); the fifth is answered offline at once
        assert len(fake.requests_to(CHAT)) == 1 + 4
        assert [(a.source, a.fallback) for a in answers] == [("model", "")] * 4 + [
            ("offline", "budget")
        ]
        assert _tokens_used() == 4 * USED
        refused = ModelCall.objects.get(provider="openai", outcome="limited")
        assert (refused.error_code, refused.cost_usd) == ("over_limit", 0)

        # when the hour has passed, the model is asked again
        clock.advance(3660)
        assert describer.describe(_image(20)).source == "model"
        assert len(fake.requests_to(CHAT)) == 6


@pytest.fixture
def clip_server(clock):
    with FakeOpenAIServer(clock=clock, embedding_dimensions=512) as server:
        yield server


def test_embeddings_per_day_interactive_answered_offline(clip_server, clock, settings):
    set_limits(settings, "clip-remote", requests=120, items=10)
    embedder = _clip_chain(clip_server.base_url)
    images = [_image(30 + i) for i in range(4)]
    # when batches of four images are embedded, a minute apart
    batches = []
    for _ in range(3):
        batches.append(embedder.embed_images(images))
        clock.advance(60)
    # then two batches (eight embeddings) went to CLIP; the third would pass ten a day: the
    # offline embedder answered it at once, and CLIP saw no third request
    assert [b.model for b in batches] == ["clip-vit-b-32", "clip-vit-b-32", PixelEmbedder.model]
    assert [len(r.body["input"]) for r in clip_server.requests_to(EMBEDDINGS)] == [4, 4]
    expected = PixelEmbedder().embed_images(images).vectors
    np.testing.assert_allclose(batches[2].vectors, expected, atol=1e-6)
    # when the day has passed, CLIP embeds again
    clock.advance(24 * 3600 + 1440)  # counted in buckets of 24 minutes
    assert embedder.embed_images(images).model == "clip-vit-b-32"


@pytest.mark.django_db(transaction=True)  # the pipeline's threads write the ledger
def test_embeddings_per_day_background_deferred_not_failed(clip_server, clock, settings):
    set_limits(settings, "clip-remote", requests=120, items=2)
    describer = FallbackDescriber(
        [ProviderLink(name="offline-analyser", build=PixelStatsDescriber,
                      model_of=lambda p: p.model_id, offline=True)]
    )  # fmt: skip
    providers = PipelineProviders(
        describer, _clip_chain(clip_server.base_url), HashingTextEmbedder()
    )
    ids = pending_analyses(_images(3))
    # when three images are analysed in the background with two embeddings left today
    summary = analysis_run_batch(analysis_ids=ids, providers=providers, batch_size=1)
    # then two were embedded by CLIP, the third waits for tomorrow: pending, not failed,
    # without a request and without an offline vector in the CLIP space
    assert (summary.completed + summary.needs_review, summary.deferred, summary.failed) == (
        2,
        1,
        0,
    )
    assert len(clip_server.requests_to(EMBEDDINGS)) == 2
    waiting = VisualAnalysis.objects.get(status=AnalysisStatus.PENDING)
    assert waiting.attempts == 0
    assert not Embedding.objects.filter(image_id=waiting.image_id, kind="image").exists()
    schedule = Schedule.objects.get(name=deferred_schedule_name(waiting.pk))
    assert ast.literal_eval(schedule.args) == (waiting.pk,)
    wait = schedule.next_run.timestamp() - clock.now
    assert 23 * 3600 < wait <= 24 * 3600 + 1440 + 60  # the day counted in buckets of 24 min


WORKER = """
import json
import numpy as np
from django.conf import settings
from PIL import Image
from analysis.http import provider_session
from analysis.limits.clock import limits_clock
from analysis.providers.openai_vision import OpenAIVisionDescriber
from analysis.providers.protocols import ProviderError
settings.SWATCH_LIMITS["PROVIDERS"]["{provider}"] = {{"requests": 60}}
describer = OpenAIVisionDescriber(
    base_url="{base_url}", model="meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo",
    session=provider_session("{provider}", timeout=(2.0, 20.0)),
)
answered, refused = 0, []
with limits_clock(lambda: {now}):
    for seed in range(50):
        pixels = np.random.default_rng(seed).integers(0, 255, (40, 40, 3), dtype=np.uint8)
        try:
            describer.describe(Image.fromarray(pixels))
            answered += 1
        except ProviderError as exc:
            refused.append(exc.code)
print(json.dumps({{"answered": answered, "refused": sorted(set(refused))}}))
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", ["database", "redis"])
def test_two_worker_processes_share_one_budget_at_the_wire(backend):
    provider = f"vision-{uuid.uuid4().hex[:8]}"
    env = {"REDIS_URL": REDIS_URL} if backend == "redis" else {}
    with FakeOpenAIServer() as fake:
        code = WORKER.format(provider=provider, base_url=fake.base_url, now=1_800_000_000.0)
        # when two worker processes each describe 50 images in the same second
        with ThreadPoolExecutor(2) as pool:
            runs = [json.loads(out) for out in pool.map(lambda _: run_django(code, env=env), "ab")]
        # then the fake saw exactly the 60 requests the minute allows, from both together
        assert len(fake.requests_to(CHAT)) == 60
        assert sum(r["answered"] for r in runs) == 60, runs
        assert all(r["refused"] in ([], ["over_limit"]) for r in runs), runs
