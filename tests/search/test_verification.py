"""Spatial verification tells the photographed sample from its look-alikes."""

import io

import numpy as np
import pytest
from PIL import Image

from search.evaluation.augment import phone_photo
from search.fusion import Fused, StrategyScore
from search.verification import image_features, inlier_count, same_sample_of, verified_rerank


def _texture(shared_data, name: str) -> Image.Image:
    path = next((shared_data / "images").glob(f"*/{name}"))
    return Image.open(path).convert("RGB")


def _photo_of(image: Image.Image, seed: int) -> Image.Image:
    # A moderate photo (half evaluate_search's alterations): these tests are about what the
    # inliers say; how often the strongest photos are still found is evaluate_search's figure.
    data = phone_photo(image, rng=np.random.default_rng(seed), strength=0.5)
    return Image.open(io.BytesIO(data)).convert("RGB")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_photo_of_a_sample_has_far_more_inliers_on_it_than_on_a_variant(shared_data, seed):
    # given two mowed-grass textures that the image embedding can hardly tell apart
    original = _texture(shared_data, "ufoai__tex_nature_grass_mowed_green_a.png")
    variant = _texture(shared_data, "ufoai__tex_nature_grass_mowed_green_c.png")
    other = _texture(shared_data, "gimp__Wood_bark.png")
    # when a phone-like photo of the original is verified against each
    photo = image_features(_photo_of(original, seed))
    on_original = inlier_count(photo, image_features(original))
    on_variant = inlier_count(photo, image_features(variant))
    on_other = inlier_count(photo, image_features(other))
    # then the original explains many more matches than a look-alike or another material
    assert on_original >= 12
    assert on_original > 2 * max(on_variant, on_other, 1)


def test_verification_is_deterministic(shared_data):
    original = _texture(shared_data, "ufoai__tex_mattn_brick03.png")
    photo = image_features(_photo_of(original, 7))
    target = image_features(original)
    assert len({inlier_count(photo, target) for _ in range(3)}) == 1


def test_a_featureless_image_has_no_inliers():
    blank = image_features(Image.new("RGB", (200, 200), (128, 128, 128)))
    assert inlier_count(blank, blank) == 0


def test_the_bonus_reorders_only_the_checked_candidates():
    vector = StrategyScore(score=0.9, rank=1, good=True)
    fused = [Fused(1, 0.90, {"vector": vector}), Fused(2, 0.88, {}), Fused(3, 0.50, {})]
    reranked = verified_rerank(fused, {2: 60, 1: 0}, weight=0.05)
    assert [f.material_id for f in reranked] == [2, 1, 3]
    by_id = {f.material_id: f for f in reranked}
    assert by_id[2].score == pytest.approx(0.88 + 0.05 * np.log1p(60))
    assert by_id[1].score == pytest.approx(0.90)
    assert by_id[1].scores["vector"].details["sample_inliers"] == 0
    assert by_id[3] is fused[2]
    # weight 0 (the calibrated fusion): the order and the scores stay
    plain = verified_rerank(fused, {2: 60}, weight=0)
    assert [(f.material_id, f.score) for f in plain] == [(1, 0.90), (2, 0.88), (3, 0.50)]


@pytest.mark.django_db
def test_an_uploaded_photo_finds_its_own_sample_first_and_says_so(
    shared_data, catalog_builder, providers
):
    from rest_framework.test import APIClient

    from tests.search.test_api import post

    # given a catalog with two look-alike grass textures and a bark
    names = {
        "green a": "ufoai__tex_nature_grass_mowed_green_a.png",
        "green c": "ufoai__tex_nature_grass_mowed_green_c.png",
        "bark": "gimp__Wood_bark.png",
    }
    materials = {
        key: catalog_builder.add(
            key, (90, 140, 60), data=next((shared_data / "images").glob(f"*/{name}")).read_bytes()
        )
        for key, name in names.items()
    }
    original = _texture(shared_data, names["green a"])
    photo = io.BytesIO()
    _photo_of(original, 11).save(photo, "JPEG", quality=85)
    # when a phone-like photo of "green a" is searched
    response = post(APIClient(), image=photo.getvalue())
    # then its own sample comes first, explained as the same sample; the look-alike is not
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert results[0]["material_id"] == materials["green a"].pk
    assert results[0]["explanation"]["matched"].get("same_sample") is True
    others = [r for r in results if r["material_id"] != materials["green a"].pk]
    assert all(not r["explanation"]["matched"].get("same_sample") for r in others)


@pytest.mark.parametrize(
    ("inliers", "expected"),
    [
        ({1: 40, 2: 15, 3: 0}, 1),  # a clear winner
        ({1: 40, 2: 25}, None),  # a repetitive texture matching its neighbour too
        ({1: 10, 2: 0}, None),  # too few to be sure
        ({}, None),
    ],
)
def test_same_sample_is_said_only_of_a_clear_winner(inliers, expected):
    assert same_sample_of(inliers) == expected


@pytest.mark.parametrize(
    ("inliers", "cosines", "expected"),
    [
        ({1: 60, 2: 55, 3: 5}, {1: 0.61, 2: 0.82}, 2),  # twins: the embedding picks
        ({1: 60, 2: 55, 3: 5}, {1: 0.82, 2: 0.61}, 1),
        ({1: 60, 2: 55, 3: 5}, None, 1),  # no cosines: the most inliers
        ({1: 60, 2: 55, 3: 40}, {1: 0.5, 2: 0.9}, None),  # the next non-twin is too close
        ({1: 60, 2: 20}, {1: 0.3, 2: 0.9}, 1),  # not twins: geometry decides
    ],
)
def test_among_geometric_twins_the_image_cosine_decides(inliers, cosines, expected):
    assert same_sample_of(inliers, cosines) == expected


def test_a_colourway_is_a_geometric_twin_and_the_closer_vector_is_the_same_sample(shared_data):
    # given a brick texture and a colourway of it (the same design, its colour channels
    # swapped): keypoints are found in grey levels, so both explain the photo's matches
    original = _texture(shared_data, "ufoai__tex_mattn_brick03.png")
    r, g, b = original.split()
    colourway = Image.merge("RGB", (b, r, g))
    photo = image_features(_photo_of(original, 3))
    counts = {
        1: inlier_count(photo, image_features(original)),
        2: inlier_count(photo, image_features(colourway)),
    }
    assert min(counts.values()) >= 0.7 * max(counts.values())
    # when the image vectors (which see colour) put the original closer
    fused = [
        Fused(mid, 1.0, {"vector": StrategyScore(score=cos, rank=rank, good=True)})
        for rank, (mid, cos) in enumerate([(2, 0.55), (1, 0.71)], start=1)
    ]
    # then the original, not the colourway, is the same sample
    marked = verified_rerank(fused, {**counts, 3: 2}, weight=0.0)
    same = [f.material_id for f in marked if f.scores["vector"].details.get("same_sample")]
    assert same == [1]


@pytest.mark.django_db
def test_verification_looks_further_for_a_sample_the_image_vector_ranked_low(
    shared_data, catalog_builder
):
    import dataclasses

    from search.conf import search_config
    from search.fusion import Hit
    from search.relevance.checks import verified_inliers

    # given a catalog where the image vector ranked the photographed sample third
    names = ["gimp__Wood_bark.png", "ufoai__tex_mattn_brick03.png",
             "ufoai__tex_nature_grass_mowed_green_a.png"]  # fmt: skip
    ids = [
        catalog_builder.add(
            name, (90, 90, 90), data=next((shared_data / "images").glob(f"*/{name}")).read_bytes()
        ).pk
        for name in names
    ]
    closest = [Hit(ids[0], 0.62), Hit(ids[1], 0.60), Hit(ids[2], 0.58)]
    photo = _photo_of(_texture(shared_data, names[2]), 11)
    first_only = dataclasses.replace(search_config(), verify_top=1, verify_extend=0)
    further = dataclasses.replace(first_only, verify_extend=3)
    # when only the first is checked, the sample is not seen
    assert set(verified_inliers(photo, closest, first_only)) == {ids[0]}
    # when none of the first is the same sample, the next ones are checked for one
    inliers = verified_inliers(photo, closest, further)
    assert set(inliers) == {ids[0], ids[2]}  # the brick's chance inliers stay out
    assert same_sample_of(inliers, {h.material_id: h.score for h in closest}) == ids[2]
    # a query whose first candidate is its sample looks no further
    on_top = [Hit(ids[2], 0.9), Hit(ids[0], 0.6), Hit(ids[1], 0.5)]
    assert set(verified_inliers(photo, on_top, further)) == {ids[2]}
    # and a photo of nothing in the catalog adds nobody
    blank = Image.new("RGB", (256, 256), (120, 120, 120))
    assert set(verified_inliers(blank, closest, further)) == {ids[0]}


def test_no_candidate_is_called_the_same_sample_when_claims_are_off():
    vector = StrategyScore(score=0.4, rank=1, good=False)
    fused = [Fused(1, 0.4, {"vector": vector}), Fused(2, 0.3, {"vector": vector})]
    claimed = verified_rerank(fused, {1: 60, 2: 0}, weight=0)
    assert claimed[0].scores["vector"].details["same_sample"] is True
    quiet = verified_rerank(fused, {1: 60, 2: 0}, weight=0, claims=False)
    assert [f.scores["vector"].details["same_sample"] for f in quiet] == [False, False]
    assert quiet[0].scores["vector"].details["sample_inliers"] == 60  # still evidence


@pytest.mark.django_db
def test_a_query_that_is_probably_no_material_is_no_photo_of_a_sample(
    shared_data, catalog_builder, providers, monkeypatch
):
    from rest_framework.test import APIClient

    from tests.search.test_api import post

    name = "ufoai__tex_nature_grass_mowed_green_a.png"
    sample = catalog_builder.add(
        "green a", (90, 140, 60), data=next((shared_data / "images").glob(f"*/{name}")).read_bytes()
    )
    photo = io.BytesIO()
    _photo_of(_texture(shared_data, name), 11).save(photo, "JPEG", quality=85)
    # The tests' embedders have no fitted P(material) model (the shipped one is for
    # EfficientNet-Lite0): the query's P(material) is set to what such a model could say.
    monkeypatch.setattr("search.relevance.checks.material_probability", lambda *a, **k: 0.2)
    results = post(APIClient(), image=photo.getvalue()).json()["results"]
    # its inliers still count, but "same sample" is not said of a query that is likely no
    # material photo at all (a star field, a logo), nor is it a good match
    assert all(not r["explanation"]["matched"].get("same_sample") for r in results)
    assert all(not r["good"] for r in results)
    assert sample.pk in [r["material_id"] for r in results]
