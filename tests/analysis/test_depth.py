"""Analysis depth against the local fake of the provider's wire format: each depth its own
prompt, `max_tokens`, cache key and ledger row; a describer without depths says so."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from analysis.caching import description_key
from analysis.depth import AnalysisOptionsInvalid, AtDepth, analysis_options_parse
from analysis.models import ModelCall
from analysis.query import query_image_description
from tests.analysis.limits_support import set_limits
from tests.analysis.pipeline_support import PixelStatsDescriber
from tests.analysis.test_limits_pipeline import CHAT, _chain, _png
from tests.fakes.openai_server import FakeOpenAIServer, Reply, fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_cache")]
MODEL = "meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo"


@pytest.fixture
def fake(settings):
    set_limits(settings, "openai", requests=600)
    with FakeOpenAIServer() as server:
        yield server


def _image(seed: int = 3) -> Image.Image:
    return Image.open(io.BytesIO(_png(seed))).convert("RGB")


def _prompt(recorded) -> str:
    return recorded.body["messages"][1]["content"][0]["text"]


def test_each_depth_has_its_prompt_max_tokens_cache_key_and_ledger_row(fake):
    chain = _chain(fake.base_url)
    image = _image()
    results = {}
    for depth in ("basic", "detailed", "comprehensive"):
        results[depth] = query_image_description(
            pixels=image, sha256="a" * 64, describer=AtDepth(chain, depth)
        )
    sent = fake.requests_to(CHAT)
    # one request per depth, each with its own instruction and max_tokens
    assert [r.body["max_tokens"] for r in sent] == [500, 1200, 2000]
    assert "Depth: basic" in _prompt(sent[0])
    assert "Depth:" not in _prompt(sent[1])
    assert "Depth: comprehensive" in _prompt(sent[2])
    # each answer under its own prompt version, so its own cache key
    versions = [results[d].prompt_version for d in ("basic", "detailed", "comprehensive")]
    assert len(set(versions)) == 3
    keys = {description_key(sha256="a" * 64, model_id=MODEL, prompt_version=v) for v in versions}
    assert len(keys) == 3
    assert [results[d].depth for d in results] == ["basic", "detailed", "comprehensive"]
    # asked again at a depth: from the cache, no request
    again = query_image_description(
        pixels=image, sha256="a" * 64, describer=AtDepth(chain, "basic")
    )
    assert again.prompt_version == versions[0]
    assert len(fake.requests_to(CHAT)) == 3
    # and the ledger says which depth each call was
    rows = ModelCall.objects.filter(provider="openai").order_by("started_at", "id")
    assert list(rows.values_list("depth", "outcome")) == [
        ("basic", "ok"), ("detailed", "ok"), ("comprehensive", "ok"),
    ]  # fmt: skip


def test_a_comprehensive_answer_without_its_extras_is_repaired_once(fake):
    answer = fixture("together/chat_completion_ok.json")
    content = json.loads(answer["choices"][0]["message"]["content"])
    content["properties"] = []
    content["confidence"] = {"overall": 0.8, "material_type": 0.9}
    answer["choices"][0]["message"]["content"] = json.dumps(content)
    fake.script(Reply(body=answer))  # then the default (complete) answer
    result = AtDepth(_chain(fake.base_url), "comprehensive").describe(_image(4))
    sent = fake.requests_to(CHAT)
    assert len(sent) == 2
    repair = sent[1].body["messages"][-1]["content"]
    assert "comprehensive needs" in repair
    assert result.source == "model"
    assert result.description.properties


def test_a_describer_that_knows_no_depths_says_where_it_cannot_honour_one():
    # (the offline analyser knows them: tests/analysis/test_offline_depth.py)
    comprehensive = AtDepth(PixelStatsDescriber(), "comprehensive").describe(_image())
    assert comprehensive.depth == "detailed"
    assert "one description at every depth" in comprehensive.depth_note
    basic = AtDepth(PixelStatsDescriber(), "basic").describe(_image())
    assert basic.depth_note == ""  # its one description has the type and colours a basic needs


def test_analysis_options_are_checked_field_by_field():
    assert analysis_options_parse({"vision": False}).as_dict() == {
        "vision": False, "clip": True, "depth": "detailed",
    }  # fmt: skip
    for raw, field in (
        ({"depth": "deep"}, "analysis.depth"),
        ({"vision": "no"}, "analysis.vision"),
        ({"speed": 1}, "analysis.speed"),
        ([1], "analysis"),
    ):
        with pytest.raises(AnalysisOptionsInvalid) as refused:
            analysis_options_parse(raw)
        assert refused.value.field == field
