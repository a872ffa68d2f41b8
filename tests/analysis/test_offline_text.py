"""all-MiniLM-L6-v2 (int8 ONNX) through tokenizers + onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.providers.offline_text import MiniLMTextEmbedder
from analysis.providers.protocols import ProviderError, TextEmbedder


def test_text_embeddings_are_unit_384_d_and_deterministic():
    # given the shipped text embedder
    embedder = MiniLMTextEmbedder()
    texts = ["light oak veneer", "red brick wall", ""]
    # when texts are embedded twice
    first, second = embedder.embed_texts(texts).vectors, embedder.embed_texts(texts).vectors
    # then unit float32 rows of 384, the same both times
    assert isinstance(embedder, TextEmbedder)
    assert embedder.model == "all-minilm-l6-v2"
    assert first.shape == (3, 384)
    assert first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(first, second)


def test_related_descriptions_are_closer_than_unrelated_ones():
    # given a description, a paraphrase of it and descriptions of other materials
    embedder = MiniLMTextEmbedder()
    query, paraphrase, *others = embedder.embed_texts(
        [
            "polished white marble with grey veins",
            "white marble slab, glossy, with grey veining",
            "green grass lawn seen from above",
            "rusty corrugated metal sheet",
            "a thick charcoal wool carpet",
        ]
    ).vectors
    # then the paraphrase is the nearest, by a clear margin
    assert query @ paraphrase > 0.6
    assert query @ paraphrase > max(query @ other for other in others) + 0.2


def test_long_batches_and_long_texts_match_one_by_one_embedding():
    # given texts of very different lengths, one of them past 256 tokens
    embedder = MiniLMTextEmbedder()
    texts = [f"material sample number {i}, brushed steel" for i in range(40)]
    texts[7] = "oak " * 600
    # when they are embedded together and one by one
    together = embedder.embed_texts(texts).vectors
    alone = np.stack(
        [embedder.embed_texts([t]).vectors[0] for t in (texts[0], texts[7], texts[39])]
    )
    # then a text's vector does not depend on its neighbours (int8 activations are scaled per
    # run: padding to a batch's longest text would shift them)
    np.testing.assert_allclose(together[[0, 7, 39]], alone, atol=1e-6)


def test_non_text_input_is_refused_clearly():
    with pytest.raises(ProviderError, match="strings"):
        MiniLMTextEmbedder().embed_texts(["fine", None])  # type: ignore[list-item]
