"""The remote CLIP embedder against a local server speaking its documented wire format."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from analysis.http import HttpPolicy, ProviderSession
from analysis.providers.clip_remote import RemoteClipEmbedder
from analysis.providers.protocols import ImageEmbedder, ProviderError, TextEmbedder
from tests.fakes.openai_server import FakeOpenAIServer, Reply, unavailable


@pytest.fixture
def server():
    with FakeOpenAIServer(embedding_dimensions=512) as fake:
        yield fake


def _embedder(server, **kwargs) -> RemoteClipEmbedder:
    policy = HttpPolicy(read_timeout=2.0, max_attempts=2, backoff_base=0.01, backoff_max=0.02)
    return RemoteClipEmbedder(
        base_url=server.base_url,
        session=ProviderSession("clip-remote", policy=policy, api_key="sk-test-clip"),
        remote_model="openai/clip-vit-base-patch32",
        **kwargs,
    )


def _images() -> list[Image.Image]:
    return [
        Image.new("RGB", (300, 200), (200, 30, 30)),
        Image.new("RGB", (64, 64), (20, 160, 40)),
        Image.new("RGB", (300, 200), (200, 30, 30)),
    ]


def test_images_are_sent_as_data_urls_and_come_back_normalised_in_input_order(server):
    # given a server that returns the vectors in reverse order (with their indices)
    embedder = _embedder(server)

    # when
    vectors = embedder.embed_images(_images()).vectors

    # then
    assert isinstance(embedder, ImageEmbedder)
    assert embedder.model == "clip-vit-b-32"
    assert vectors.shape == (3, 512)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(vectors[0], vectors[2], atol=1e-6)  # same image, same vector
    assert float(vectors[0] @ vectors[1]) < 0.99  # different images: different vectors
    (request,) = server.requests
    assert request.path == "/v1/embeddings"
    assert request.body["model"] == "openai/clip-vit-base-patch32"
    assert all(item.startswith("data:image/jpeg;base64,") for item in request.body["input"])


def test_texts_are_sent_as_strings(server):
    embedder = _embedder(server)

    vectors = embedder.embed_texts(["warm oak plank", "grey concrete"]).vectors

    assert isinstance(embedder, TextEmbedder)
    assert vectors.shape == (2, 512)
    assert server.requests[0].body["input"] == ["warm oak plank", "grey concrete"]
    assert float(vectors[0] @ vectors[1]) < 0.99


def test_inputs_are_sent_in_batches(server):
    embedder = _embedder(server, batch_size=2)

    vectors = embedder.embed_texts(["a", "b", "c", "d", "e"]).vectors

    assert vectors.shape == (5, 512)
    assert [len(r.body["input"]) for r in server.requests] == [2, 2, 1]
    single = _embedder(server).embed_texts(["e"]).vectors
    np.testing.assert_allclose(vectors[4], single[0], atol=1e-6)


@pytest.mark.parametrize(
    "body",
    [
        {"data": [{"index": 0, "embedding": [0.1] * 511}]},  # wrong dimensions
        {"data": []},  # too few vectors
        {"data": [{"index": 0, "embedding": [0.0] * 512}]},  # a zero vector
        {"data": [{"index": 0}]},  # no embedding
        {"object": "list"},  # no data
    ],
)
def test_a_malformed_answer_is_a_bad_response(server, body):
    server.script(Reply(body=body))

    with pytest.raises(ProviderError) as caught:
        _embedder(server).embed_texts(["oak"])

    assert caught.value.code == "bad_response"


def test_an_outage_is_retried_then_reported(server):
    server.script(unavailable(), unavailable())

    with pytest.raises(ProviderError) as caught:
        _embedder(server).embed_images(_images()[:1])

    assert caught.value.code == "unavailable"
    assert len(server.requests) == 2
