"""EfficientNet-Lite0 through onnxruntime, on the shipped graph and real shared images."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from analysis.providers.offline_image import EfficientNetLite0Embedder
from analysis.providers.protocols import ImageEmbedder, ProviderError
from tests.analysis.offline_support import shared_embeddings, shared_image, shared_rows


def _phone_photo(image: Image.Image) -> Image.Image:
    """What a phone photo of a sample does: crop, a small rotation, lighter, JPEG."""
    w, h = image.size
    image = image.crop((w // 10, h // 10, w - w // 12, h - h // 12)).rotate(4, expand=False)
    image = Image.eval(image, lambda v: min(255, int(v * 1.12) + 6))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=70)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def test_embeddings_are_unit_float32_of_the_declared_size():
    # given the shipped embedder and three real textures of different sizes
    embedder = EfficientNetLite0Embedder()
    images = [shared_image(r) for r in shared_rows()[:3]]
    # when they are embedded
    vectors = embedder.embed_images(images).vectors
    # then one unit-length float32 row each, of the size the vector index expects
    assert isinstance(embedder, ImageEmbedder)
    assert embedder.model == "efficientnet-lite0"
    assert vectors.shape == (3, embedder.dimensions) == (3, 1704)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed_images([]).vectors.shape == (0, 1704)


def test_embedding_is_deterministic_and_independent_of_batching():
    # given the same five images, embedded in one batch and in batches of two
    images = [shared_image(r) for r in shared_rows()[10:15]]
    one_batch = EfficientNetLite0Embedder(batch_size=32).embed_images(images).vectors
    small_batches = EfficientNetLite0Embedder(batch_size=2).embed_images(images).vectors
    # then the vectors agree (float32 noise only) and a second run is identical
    np.testing.assert_allclose(one_batch, small_batches, atol=1e-5)
    np.testing.assert_array_equal(
        one_batch, EfficientNetLite0Embedder().embed_images(images).vectors
    )


def test_a_phone_photo_of_a_texture_is_closer_to_it_than_other_materials_are():
    # given real textures of several categories and an altered copy of each
    rows = shared_rows()
    vectors = shared_embeddings()
    embedder = EfficientNetLite0Embedder()
    picks = [i for i, r in enumerate(rows) if r["category"] in {"brick", "grass", "wood"}][::4]
    photos = embedder.embed_images([_phone_photo(shared_image(rows[i])) for i in picks]).vectors
    for photo, i in zip(photos, picks, strict=True):
        # when the photo is compared with the original and with every other-category image
        others = [j for j, r in enumerate(rows) if r["category"] != rows[i]["category"]]
        # then the original is nearer than all of them
        assert photo @ vectors[i] > max(vectors[others] @ photo), rows[i]["path"]


def test_images_of_one_category_are_closer_than_images_of_different_categories():
    # given the embeddings of all shared textures
    rows = shared_rows()
    vectors = shared_embeddings()
    labels = np.array([r["category"] for r in rows])
    groups = np.array([r["group"] for r in rows])
    similarity = vectors @ vectors.T
    # when same-category pairs (never of one group) are set against cross-category pairs
    same = (labels[:, None] == labels[None]) & (groups[:, None] != groups[None])
    different = labels[:, None] != labels[None]
    # then same-category pairs are clearly more similar, and the nearest other-group neighbour
    # has the query's category for most images (leave-group-out P@1; 0.71 measured)
    assert similarity[same].mean() > similarity[different].mean() + 0.05
    masked = np.where(groups[:, None] == groups[None], -np.inf, similarity)
    assert (labels[masked.argmax(axis=1)] == labels).mean() >= 0.65


def test_a_missing_graph_is_a_clear_provider_error(tmp_path):
    # given an embedder pointed at a graph that is not there
    embedder = EfficientNetLite0Embedder(tmp_path / "nope.onnx")
    # when it is used, then it says what is missing and that retrying will not help
    with pytest.raises(ProviderError, match="nope.onnx") as caught:
        embedder.embed_images([Image.new("RGB", (32, 32))])
    assert caught.value.code == "model_missing"
    assert caught.value.retryable is False
