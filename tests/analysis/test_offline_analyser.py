"""The offline analyser: what pixels say, a calibrated type guess, always a valid description."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from analysis.colors import delta_e00, srgb_to_lab
from analysis.description import description_parse
from analysis.offline.classifier import type_classifier_fit
from analysis.providers.offline_analyser import OfflineAnalyser
from analysis.providers.protocols import DescribeHints, ImageDescriber, ProviderError
from tests.analysis.offline_support import shared_embeddings, shared_image, shared_rows


@pytest.fixture(scope="module")
def analyser() -> OfflineAnalyser:
    return OfflineAnalyser()


def _stripes(vertical: bool) -> Image.Image:
    pixels = np.zeros((160, 160, 3), dtype=np.uint8)
    index = np.arange(160) // 10 % 2 == 0
    if vertical:
        pixels[:, index] = (230, 230, 225)
    else:
        pixels[index, :] = (230, 230, 225)
    return Image.fromarray(pixels)


def test_a_solid_red_image_comes_back_red(analyser):
    # given a plain red image
    red = (190, 35, 35)
    # when it is analysed
    result = analyser.describe(Image.new("RGB", (300, 200), red))
    description = result.description
    # then one colour, named red, within a just-noticeable difference of the truth
    assert isinstance(analyser, ImageDescriber)
    assert result.source == "offline"
    assert [c.name for c in description.colors] == ["red"]
    assert description.colors[0].share == pytest.approx(1.0)
    assert delta_e00(description.colors[0].lab, tuple(srgb_to_lab(np.array(red)))) < 1.0
    assert description.colors[0].hex == "#be2323"
    assert description.pattern == "solid"
    assert description.texture.contrast == pytest.approx(0.0, abs=0.01)


def test_two_colours_come_back_with_their_shares(analyser):
    # given an image three-quarters navy, one quarter white
    pixels = np.zeros((200, 200, 3), dtype=np.uint8)
    pixels[:, :150] = (30, 40, 90)
    pixels[:, 150:] = (245, 245, 242)
    # when it is analysed
    colors = analyser.describe(Image.fromarray(pixels)).description.colors
    # then both colours, by share
    assert [c.name for c in colors] == ["navy", "white"]
    assert colors[0].share == pytest.approx(0.75, abs=0.03)
    assert colors[1].share == pytest.approx(0.25, abs=0.03)


@pytest.mark.parametrize(("vertical", "direction"), [(True, "vertical"), (False, "horizontal")])
def test_stripes_have_a_direction_and_are_regular(analyser, vertical, direction):
    description = analyser.describe(_stripes(vertical)).description
    assert description.texture.direction == direction
    assert description.texture.regularity > 0.7
    assert description.pattern == "striped"


def test_noise_is_irregular_and_undirected(analyser):
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 256, (160, 160, 3), dtype=np.uint8))
    texture = analyser.describe(noise).description.texture
    assert texture.direction == "none"
    assert texture.regularity < 0.3


def test_every_output_validates_on_real_and_awkward_images(analyser):
    # given real textures and awkward inputs (tiny, grey, transparent, one pixel wide)
    images = [shared_image(r) for r in shared_rows()[::13]]
    images += [
        Image.new("L", (40, 30), 128),
        Image.new("RGBA", (64, 64), (0, 0, 0, 0)),
        Image.new("RGB", (1, 300), (10, 200, 10)),
        Image.new("RGB", (16, 16), (0, 0, 0)),
    ]
    for image in images:
        # when each is analysed
        description = analyser.describe(image).description
        # then the description passes the schema as stored data would, and is honest
        assert description_parse(description.model_dump()) == description
        assert description.confidence.overall == description.confidence.material_type
        assert description.confidence.finish <= 0.3
        assert "no vision model" in description.summary


def test_the_type_comes_from_an_injected_classifier_that_never_saw_the_group(analyser):
    # given a classifier trained without the query's group (as evaluate_search does per fold)
    rows = shared_rows()
    vectors = shared_embeddings()
    query = next(i for i, r in enumerate(rows) if r["category"] == "grass")
    keep = [i for i, r in enumerate(rows) if r["group"] != rows[query]["group"]]
    classifier = type_classifier_fit(
        vectors[keep], [rows[i]["category"] for i in keep], groups=[rows[i]["group"] for i in keep]
    )
    held_out = OfflineAnalyser(embedder=analyser.embedder, classifier=classifier)
    # when the query image is analysed by it
    result = held_out.describe(shared_image(rows[query]))
    # then type and confidence are that classifier's calibrated answer
    probabilities = classifier.predict_proba(vectors[query][None])[0]
    assert result.description.material_type == classifier.classes[probabilities.argmax()]
    assert result.description.confidence.overall == pytest.approx(probabilities.max(), abs=1e-3)
    assert result.description.category == "natural"  # grass; category follows the type
    # and a different classifier is a different model id (cached analyses are not mixed up)
    assert held_out.model_id != analyser.model_id


def test_a_passed_embedding_is_used_instead_of_embedding_again(analyser):
    # given a real image and the embedding of a *different* image
    rows = shared_rows()
    vectors = shared_embeddings()
    wood = next(i for i, r in enumerate(rows) if r["category"] == "wood")
    grass = next(i for i, r in enumerate(rows) if r["category"] == "grass")
    # when the wood image is described with the grass vector
    hints = DescribeHints(embedding=vectors[grass], embedding_model=analyser.embedding_model)
    description = analyser.describe(shared_image(rows[wood]), hints=hints).description
    # then the type follows the vector it was given (the caller's, e.g. the pipeline's)
    expected = analyser.classifier.predict(vectors[grass][None])[0]
    assert description.material_type == expected


def test_a_missing_classifier_is_a_clear_provider_error(tmp_path, analyser):
    broken = OfflineAnalyser(embedder=analyser.embedder, classifier_path=tmp_path / "none.npz")
    with pytest.raises(ProviderError, match="train_type_classifier") as caught:
        broken.describe(Image.new("RGB", (32, 32)))
    assert caught.value.code == "model_missing"
