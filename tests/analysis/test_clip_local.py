"""Local CLIP: a tiny, randomly initialised CLIP that the test builds and saves itself, loaded
through the provider exactly as real ViT-B/32 weights would be (no hub, no download)."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from PIL import Image

from analysis.providers.clip_local import LocalClipEmbedder, clip_dimensions
from analysis.providers.protocols import ImageEmbedder, ProviderError, TextEmbedder

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _tiny_clip(path) -> None:
    torch = pytest.importorskip("torch")  # installed on demand: the `needs_ml` mark
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.CLIPConfig(
        text_config={
            "vocab_size": 64,
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 32,
            # CLIP pools the text at the end-of-text token: ids of the tiny vocabulary below
            "bos_token_id": 0,
            "eos_token_id": 1,
            "pad_token_id": 1,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=24,
    )
    transformers.CLIPModel(config).save_pretrained(path)
    # A character-level BPE vocabulary in CLIP's format (word ends carry </w>).
    tokens = ["<|startoftext|>", "<|endoftext|>", *LETTERS, *(f"{c}</w>" for c in LETTERS)]
    transformers.CLIPTokenizer(
        vocab={t: i for i, t in enumerate(tokens)}, merges=[]
    ).save_pretrained(path)
    transformers.CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    ).save_pretrained(path)


@pytest.fixture(scope="module")
def tiny_clip_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-clip")
    _tiny_clip(path)
    return path


@pytest.mark.needs_ml
def test_dimensions_come_from_the_checkpoint_config_without_loading_it(tiny_clip_dir):
    embedder = LocalClipEmbedder(tiny_clip_dir, model="clip-vit-b-32")

    assert clip_dimensions(tiny_clip_dir) == 24
    assert embedder.dimensions == 24
    assert not embedder._loaded.made  # nothing loaded yet


@pytest.mark.needs_ml
def test_images_and_texts_embed_into_one_normalised_space(tiny_clip_dir):
    # given the tiny checkpoint, loaded through the provider
    embedder = LocalClipEmbedder(tiny_clip_dir, batch_size=2)
    images = [
        Image.new("RGB", (80, 60), (200, 30, 30)),
        Image.new("RGB", (40, 40), (20, 160, 240)),
        Image.new("L", (80, 60), 128),
    ]

    # when
    image_vectors = embedder.embed_images(images).vectors
    text_vectors = embedder.embed_texts(["red oak", "blue tile"]).vectors

    # then
    assert isinstance(embedder, ImageEmbedder)
    assert isinstance(embedder, TextEmbedder)
    assert image_vectors.shape == (3, 24)
    assert text_vectors.shape == (2, 24)
    assert image_vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(image_vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(text_vectors, axis=1), 1.0, rtol=1e-5)
    assert abs(float(image_vectors[0] @ image_vectors[1])) < 0.999
    assert abs(float(text_vectors[0] @ text_vectors[1])) < 0.999
    # deterministic: the same input embeds the same way again, alone or in a batch
    np.testing.assert_allclose(
        embedder.embed_images(images[:1]).vectors[0], image_vectors[0], atol=1e-5
    )
    np.testing.assert_allclose(
        embedder.embed_texts(["red oak"]).vectors[0], text_vectors[0], atol=1e-5
    )


def test_a_folder_without_a_checkpoint_is_unavailable(tmp_path):
    with pytest.raises(ProviderError) as caught:
        LocalClipEmbedder(tmp_path)

    assert caught.value.code == "unavailable"
    assert not caught.value.retryable


@pytest.mark.needs_ml
def test_broken_weights_are_unavailable_not_a_crash(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "config.json").write_text(json.dumps({"projection_dim": 512}))
    embedder = LocalClipEmbedder(tmp_path)

    with pytest.raises(ProviderError) as caught:
        embedder.embed_texts(["oak"])

    assert caught.value.code == "unavailable"


def test_the_core_imports_without_torch():
    # the provider modules must not import torch at import time
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['transformers'] = None\n"
        "import analysis.providers.clip_local, analysis.providers.clip_remote\n"
        "import analysis.providers.openai_vision\n"
        "print('ok')"
    )
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.stdout.strip() == "ok", result.stderr


@pytest.mark.needs_ml
def test_without_torch_the_provider_says_how_to_install_it(tiny_clip_dir, monkeypatch):
    # torch *is* installed here; hiding it is the only way to exercise the missing case
    monkeypatch.setitem(sys.modules, "torch", None)
    embedder = LocalClipEmbedder(tiny_clip_dir)

    with pytest.raises(ProviderError) as caught:
        embedder.embed_images([Image.new("RGB", (32, 32))])

    assert "requirements-ml.txt" in str(caught.value)
    assert caught.value.code == "unavailable"
