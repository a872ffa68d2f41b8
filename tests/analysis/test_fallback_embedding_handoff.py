"""The describer chain hands the pipeline's embedding to the offline analyser, so an image is
embedded once per ingestion, not twice."""

import numpy as np
import pytest
from PIL import Image

from analysis.providers.chains import FallbackDescriber
from analysis.providers.fallback import ProviderLink
from analysis.providers.offline_analyser import OfflineAnalyser
from analysis.providers.offline_image import EfficientNetLite0Embedder
from analysis.providers.protocols import DescribeHints

pytestmark = pytest.mark.django_db


class CountingEmbedder:
    """The real offline embedder, counting its calls (a wrapper, not a mock)."""

    def __init__(self) -> None:
        self.inner = EfficientNetLite0Embedder()
        self.model = self.inner.model
        self.dimensions = self.inner.dimensions
        self.calls = 0

    def embed_images(self, images):
        self.calls += 1
        return self.inner.embed_images(images)


def _chain(embedder: CountingEmbedder) -> FallbackDescriber:
    analyser = OfflineAnalyser(embedder=embedder)
    link = ProviderLink(
        name="offline-test", build=lambda: analyser, model_of=lambda p: p.model_id, offline=True
    )
    return FallbackDescriber([link])


def test_a_matching_embedding_is_used_instead_of_embedding_again(shared_data):
    image = Image.open(next((shared_data / "images" / "wood").glob("*.png"))).convert("RGB")
    embedder = CountingEmbedder()
    vector = embedder.inner.embed_images([image]).vectors[0]
    # when the chain gets the pipeline's vector from the analyser's own model
    hints = DescribeHints(embedding=vector, embedding_model=embedder.model)
    handed = _chain(embedder).describe(image, hints=hints)
    # then the analyser does not embed again, and answers as it would have by itself
    assert embedder.calls == 0
    by_itself = _chain(embedder).describe(image)
    assert embedder.calls == 1
    assert handed.description == by_itself.description


def test_an_embedding_from_another_model_is_not_handed_on(shared_data):
    image = Image.open(next((shared_data / "images" / "brick").glob("*.png"))).convert("RGB")
    embedder = CountingEmbedder()
    foreign = np.ones(512, dtype=np.float32) / np.sqrt(512)
    _chain(embedder).describe(
        image, hints=DescribeHints(embedding=foreign, embedding_model="clip-vit-b-32")
    )
    assert embedder.calls == 1
