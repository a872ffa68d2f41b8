"""The OpenAI-compatible vision describer against a local server in Together's wire format."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from analysis.description import MATERIAL_TYPES
from analysis.http import HttpPolicy, ProviderSession
from analysis.prompts import PROMPT_VERSION
from analysis.providers.openai_vision import InvalidModelOutput, OpenAIVisionDescriber
from analysis.providers.protocols import ImageDescriber, ProviderError
from tests.fakes.openai_server import FakeOpenAIServer, Reply, fixture, ok_reply, unavailable

FAKE_KEY = "sk-test-vision-fake"
MODEL = "meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo"


@pytest.fixture
def server():
    with FakeOpenAIServer() as fake:
        yield fake


@pytest.fixture
def describer(server):
    policy = HttpPolicy(read_timeout=2.0, max_attempts=2, backoff_base=0.01, backoff_max=0.02)
    return OpenAIVisionDescriber(
        base_url=server.base_url,
        model=MODEL,
        session=ProviderSession("together", policy=policy, api_key=FAKE_KEY),
        max_tokens=900,
        image_max_side=256,
    )


@pytest.fixture
def photo() -> Image.Image:
    image = Image.new("RGB", (800, 600), (139, 90, 43))
    for x in range(0, 800, 16):
        for y in range(600):
            image.putpixel((x, y), (90, 55, 30))
    return image


def _good_content() -> str:
    return fixture("together/chat_completion_ok.json")["choices"][0]["message"]["content"]


def test_a_good_answer_becomes_a_validated_description(server, describer, photo):
    # when
    result = describer.describe(photo)

    # then the description is the model's, validated
    assert isinstance(describer, ImageDescriber)
    assert result.source == "model"
    assert result.model_id == MODEL
    assert result.prompt_version == PROMPT_VERSION
    assert result.description.material_type == "wood"
    assert result.description.colors[0].name == "oak brown"
    assert result.usage.prompt_tokens == 1874
    assert result.usage.completion_tokens == 212
    assert len(server.requests) == 1


def test_the_request_is_openai_chat_completions_with_a_jpeg_image_and_json_mode(
    server, describer, photo
):
    describer.describe(photo)

    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {FAKE_KEY}"
    body = request.body
    assert body["model"] == MODEL
    assert body["response_format"] == {"type": "json_object"}
    assert body["temperature"] == 0.1
    assert body["max_tokens"] == 900
    system, user = body["messages"]
    assert system["role"] == "system"
    text_part, image_part = user["content"]
    assert text_part["type"] == "text"
    # the prompt asks for exactly the description schema
    assert '"material_type"' in text_part["text"]
    assert all(t in text_part["text"] for t in MATERIAL_TYPES)
    assert image_part["type"] == "image_url"
    url = image_part["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    sent = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert sent.format == "JPEG"
    assert sent.size == (256, 192)  # scaled down to the configured long side


def test_a_fenced_answer_is_accepted_without_a_second_request(server, describer, photo):
    server.script(ok_reply(content=f"```json\n{_good_content()}\n```"))

    result = describer.describe(photo)

    assert result.description.material_type == "wood"
    assert len(server.requests) == 1


def test_malformed_json_is_repaired_once_with_the_errors_shown_to_the_model(
    server, describer, photo
):
    # given a malformed first answer, then a good one
    malformed = fixture("together/chat_completion_malformed.json")
    server.script(Reply(body=malformed), ok_reply(prompt_tokens=2100, completion_tokens=230))

    # when
    result = describer.describe(photo)

    # then the second request carried the bad answer and why it was bad
    assert result.description.material_type == "wood"
    assert len(server.requests) == 2
    repair_messages = server.requests[1].body["messages"]
    assert repair_messages[2] == {
        "role": "assistant",
        "content": malformed["choices"][0]["message"]["content"],
    }
    assert "not valid JSON" in repair_messages[3]["content"]
    # and both requests' tokens are counted
    assert result.usage.prompt_tokens == 1874 + 2100
    assert result.usage.completion_tokens == 19 + 230


def test_an_invalid_description_is_repaired_with_its_validation_errors(server, describer, photo):
    wrong = json.loads(_good_content())
    wrong["material_type"] = "unobtainium"
    del wrong["summary"]
    server.script(ok_reply(content=json.dumps(wrong)), Reply())

    result = describer.describe(photo)

    assert result.description.material_type == "wood"
    reasons = server.requests[1].body["messages"][3]["content"]
    assert "material_type" in reasons
    assert "summary" in reasons


def test_a_truncated_answer_twice_is_rejected_with_a_reason(server, describer, photo):
    # given two answers cut off at max_tokens
    truncated = fixture("together/chat_completion_truncated.json")
    server.script(Reply(body=truncated), Reply(body=truncated))

    # when / then: one repair, then rejected; the tokens spent are kept on the error
    with pytest.raises(InvalidModelOutput) as caught:
        describer.describe(photo)
    error = caught.value
    assert error.code == "bad_response"
    assert not error.retryable
    assert "finish_reason: length" in str(error)
    assert error.usage.completion_tokens == 64 * 2
    assert len(server.requests) == 2


def test_a_truncated_answer_then_a_good_one_is_accepted(server, describer, photo):
    server.script(Reply(body=fixture("together/chat_completion_truncated.json")), Reply())

    result = describer.describe(photo)

    assert result.description.material_type == "wood"
    assert "cut off" in server.requests[1].body["messages"][3]["content"]


def test_an_outage_is_a_retryable_provider_error(server, describer, photo):
    server.script(unavailable(), unavailable())

    with pytest.raises(ProviderError) as caught:
        describer.describe(photo)

    assert caught.value.code == "unavailable"
    assert caught.value.retryable
    assert len(server.requests) == 2  # max_attempts of the session
