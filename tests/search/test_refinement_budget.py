"""A search's refinement never waits for the vision model's budget: over its limit, the
offline analyser answers at once and the answer says why (`refinement: "budget"`)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from analysis.http import provider_session
from analysis.limits.clock import ManualClock, limits_clock
from analysis.limits.outbound import outbound_reserve
from analysis.providers.chains import FallbackDescriber
from analysis.providers.fallback import ProviderLink
from analysis.providers.openai_vision import OpenAIVisionDescriber
from search.providers import SearchProviders, providers_override
from tests.analysis.limits_support import set_limits
from tests.fakes.openai_server import FakeOpenAIServer
from tests.search.catalog_support import COLORS, TYPES_BY_COLOR, png
from tests.search.providers import HistogramEmbedder, MeanColorDescriber, WordsEmbedder
from tests.search.test_api import post, wait_refined

# The refinement thread writes the ledger on its own connection: committed, so flushed after.
pytestmark = pytest.mark.django_db(transaction=True)
CHAT = "/v1/chat/completions"


@pytest.fixture
def vision_first(settings):
    """The describer chain of a deployment: the vision model over HTTP, then offline."""
    set_limits(settings, "openai", requests=60, tokens=1_000_000)
    with FakeOpenAIServer() as server:
        vision = ProviderLink(
            name="openai",
            build=lambda: OpenAIVisionDescriber(
                base_url=server.base_url,
                model="meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo",
                session=provider_session("openai", timeout=(2.0, 20.0)),
            ),
            model_of=lambda p: p.model_id,
        )
        offline = ProviderLink(
            name="offline-analyser",
            build=lambda: MeanColorDescriber(TYPES_BY_COLOR),
            model_of=lambda p: p.model_id,
            offline=True,
        )
        chosen = SearchProviders(
            image_embedder=HistogramEmbedder(),
            text_embedder=WordsEmbedder(),
            describer=FallbackDescriber([vision, offline]),
        )
        with providers_override(chosen):
            yield server


def test_the_61st_refinement_in_a_minute_is_answered_offline_and_says_budget(
    vision_first, sample_catalog
):
    client = APIClient()
    with limits_clock(ManualClock()):
        # given 60 requests to the vision model this minute
        for _ in range(60):
            outbound_reserve("openai")
        # when a photo is searched
        fast = post(client, image=png(COLORS["brown"])).json()
        refined = wait_refined(client, fast["query_id"])
    # then the refinement came from the offline analyser, without a model call, and says why
    assert refined["refinement"] == "budget"
    assert refined["query_description"]["material_type"] == "wood"
    assert not vision_first.requests_to(CHAT)
    assert refined["results"][0]["material_id"] == sample_catalog["oak"].pk


def test_within_the_limit_the_vision_model_refines(vision_first, sample_catalog):
    client = APIClient()
    with limits_clock(ManualClock()):
        fast = post(client, image=png(COLORS["white"])).json()
        refined = wait_refined(client, fast["query_id"])
    assert refined["refinement"] == "done"
    assert len(vision_first.requests_to(CHAT)) == 1


def test_vision_false_makes_no_model_call(vision_first, sample_catalog):
    client = APIClient()
    answer = post(client, image=png(COLORS["brown"]), analysis={"vision": False}).json()
    assert answer["refinement"] == "not_needed"
    assert answer["results"][0]["material_id"] == sample_catalog["oak"].pk
    assert not vision_first.requests_to(CHAT)


def test_a_bad_analysis_option_is_a_400_naming_the_field(vision_first):
    response = post(APIClient(), text="oak", analysis={"depth": "deep"})
    assert response.status_code == 400
    assert "analysis.depth" in response.content.decode()


def test_depth_goes_to_the_vision_model_with_the_refinement(vision_first, sample_catalog):
    client = APIClient()
    fast = post(client, image=png(COLORS["white"]), analysis={"depth": "basic"}).json()
    refined = wait_refined(client, fast["query_id"])
    assert refined["refinement"] == "done"
    [sent] = vision_first.requests_to(CHAT)
    assert sent.body["max_tokens"] == 500


def _page_search(client, rgb, **advanced):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("photo.png", png(rgb), content_type="image/png")
    return client.post("/", {"image": upload, **advanced}).content.decode()


def test_the_pages_advanced_part_sets_depth_and_can_skip_the_vision_model(
    vision_first, sample_catalog, client
):
    import time

    # the page offers the advanced part
    assert 'id="advanced"' in client.get("/").content.decode()
    # when a photo is searched at basic depth, the refinement asks with basic's max_tokens
    _page_search(client, COLORS["brown"], depth="basic")
    deadline = time.monotonic() + 20
    while not vision_first.requests_to(CHAT) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r.body["max_tokens"] for r in vision_first.requests_to(CHAT)] == [500]
    # when another is searched without the vision model: final at once, no request
    page = _page_search(client, COLORS["white"], no_vision="on")
    assert "refinement-not_needed" in page
    assert len(vision_first.requests_to(CHAT)) == 1
