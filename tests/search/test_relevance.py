"""Relevance without the database: the logistic fit, the combination of calibrated evidence,
the cap by P(material), the image strategy's top ten kept, image statistics, colour verdicts."""

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from analysis.colors import named_color_lab
from search.fusion import Fused, StrategyScore, cutoff
from search.relevance.calibration import Calibration, Linear, fallback
from search.relevance.combine import (
    RelevanceInputs,
    image_top_kept,
    ranked_by_relevance,
    relevance_apply,
)
from search.relevance.logistic import expected_calibration_error, logistic_fit, sigmoid
from search.relevance.negatives import KINDS, synthetic_nonmaterials
from search.relevance.typicality import image_statistics
from search.strategies.properties import description_similarity


def test_the_logistic_fit_finds_the_slope_that_made_the_labels():
    rng = np.random.default_rng(0)
    x = rng.normal(size=4000)
    y = (rng.random(4000) < sigmoid(0.5 + 2.0 * x)).astype(float)
    bias, weights = logistic_fit(x[:, None], y, l2=0)
    assert bias == pytest.approx(0.5, abs=0.15)
    assert weights[0] == pytest.approx(2.0, abs=0.2)
    # and its probabilities are calibrated where a constant is not
    p = sigmoid(bias + weights[0] * x)
    assert expected_calibration_error(p, y) < 0.03
    assert expected_calibration_error(np.full_like(p, 0.9), y) > 0.2


def _item(material_id, cosine=None, properties=None, **details):
    scores = {}
    if cosine is not None:
        scores["vector"] = StrategyScore(cosine, 1, False, details)
    if properties is not None:
        scores["properties"] = StrategyScore(properties, 1, False, {})
    return Fused(material_id, 0.0, scores)


CALIBRATED = Calibration(
    image_model="m", text_model="t",
    vector=Linear(-10.0, {"cosine": 15.0, "inliers": 1.0, "same_sample": 5.0}),
    material=None,
    semantic={}, properties={"image": Linear(-3.0, {"score": 4.0})},
    fusion={"image:properties+vector": Linear(0.0, {"vector": 1.0, "properties": 0.5})},
)  # fmt: skip


def _inputs(calibration=CALIBRATED, material=None, weights=None):
    default = {"vector": 1.0, "properties": 0.2, "semantic": 0.1}
    return RelevanceInputs(calibration, weights or default, default, "image", material)


def test_relevance_is_a_probability_that_rises_with_the_evidence():
    fused = [_item(1, 0.9, 0.9), _item(2, 0.7, 0.9), _item(3, 0.7, 0.2), _item(4, None, 0.5)]
    relevance_apply(fused, _inputs())
    values = [f.relevance for f in fused]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert values[0] > values[1] > values[2]
    # each strategy's own calibrated part is kept beside the relevance
    assert set(fused[0].evidence) == {"vector", "properties"}
    # a result the image strategy did not return counts as its weakest hit
    assert fused[3].evidence["vector"] == pytest.approx(sigmoid(-10 + 15 * 0.7), abs=1e-3)


def test_a_first_image_hit_far_ahead_of_the_next_is_surer_when_the_fit_says_so():
    leading = Linear(-10.0, {"cosine": 15.0, "inliers": 1.0, "same_sample": 5.0, "lead": 20.0})
    calibration = replace(CALIBRATED, vector=leading)
    fused = [_item(1, 0.7, lead=0.15), _item(2, 0.7)]
    relevance_apply(fused, _inputs(calibration))
    assert fused[0].relevance > fused[1].relevance
    # a calibration fitted before the lead existed ignores it
    relevance_apply(fused, _inputs())
    assert fused[0].relevance == pytest.approx(fused[1].relevance)


def test_a_request_weight_changes_a_strategys_say():
    plain = [_item(1, 0.7, 0.9), _item(2, 0.6, 0.1)]
    heavy = [_item(1, 0.7, 0.9), _item(2, 0.6, 0.1)]
    relevance_apply(plain, _inputs())
    relevance_apply(heavy, _inputs(weights={"vector": 1.0, "properties": 0.8, "semantic": 0.1}))
    assert heavy[0].relevance > plain[0].relevance  # properties vouch for it, four times as loud


def test_nothing_is_surer_than_the_query_is_a_material():
    fused = [_item(1, 0.99, 1.0, sample_inliers=80, same_sample=True)]
    relevance_apply(fused, _inputs(material=0.05))
    assert fused[0].relevance == pytest.approx(0.05)
    assert cutoff(fused, 0.5, nearest=20) == fused  # listed all the same, not good


def test_results_capped_to_one_relevance_keep_the_order_of_their_evidence():
    # ids against the evidence: a tie broken by id would put the weakest first
    fused = [_item(3, 0.95, 0.9), _item(1, 0.7, 0.2), _item(2, 0.85, 0.6)]
    relevance_apply(fused, _inputs(material=0.3))
    assert [f.relevance for f in fused] == pytest.approx([0.3, 0.3, 0.3])
    assert [f.material_id for f in ranked_by_relevance(fused)] == [3, 2, 1]


def test_the_fallback_is_conservative_and_trusts_a_verified_same_sample():
    calibration = fallback(image_model="clip", text_model="clip", threshold=0.75)
    assert not calibration.calibrated or calibration.material is None
    fused = [_item(1, 0.74), _item(2, 0.86), _item(3, 0.6, sample_inliers=60, same_sample=True)]
    relevance_apply(fused, _inputs(calibration))
    by_id = {f.material_id: f.relevance for f in fused}
    assert by_id[1] < 0.5 < by_id[2]
    assert by_id[3] > 0.5


def test_a_verified_same_sample_comes_first():
    fused = [_item(1, 0.8, 1.0), _item(2, 0.7, 0.2, sample_inliers=40, same_sample=True)]
    fused[0].relevance, fused[1].relevance = 0.9, 0.4  # the analysis vouches for the other
    assert [f.material_id for f in ranked_by_relevance(fused)] == [2, 1]
    fused[1].scores["vector"] = StrategyScore(0.7, 1, False, {})  # not verified: by relevance
    assert [f.material_id for f in ranked_by_relevance(fused)] == [1, 2]


def test_the_image_strategys_top_ten_stay_within_the_first_fifty():
    ranking = [_item(i) for i in range(100)]
    image_hits = [99, 75, 3, 60, 61, 62, 63, 64, 65, 66, 98]  # 98 is 11th: not kept up
    kept = image_top_kept(ranking, image_hits)
    first = [f.material_id for f in kept[:50]]
    assert set(image_hits[:10]) <= set(first)
    assert 98 not in first
    assert sorted(f.material_id for f in kept) == list(range(100))  # nothing lost


@pytest.mark.parametrize("kind", KINDS)
def test_synthetic_nonmaterials_of_every_kind(kind):
    images = dict(synthetic_nonmaterials(len(KINDS), seed=3))
    assert images[kind].mode == "RGB"
    assert min(images[kind].size) >= 96


def test_image_statistics_tell_a_solid_colour_and_noise_from_a_texture():
    solid = image_statistics(Image.new("RGB", (200, 200), (200, 30, 90)))
    rng = np.random.default_rng(0)
    noise = image_statistics(Image.fromarray(rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)))
    y, x = np.mgrid[0:200, 0:200]
    grain = (128 + 60 * np.sin(x / 6.0 + 2 * np.sin(y / 25.0))).astype(np.uint8)
    texture = image_statistics(
        Image.fromarray(np.dstack([grain, grain * 0.8, grain * 0.5]).astype(np.uint8))
    )
    assert solid["flat_share"] == 1.0
    assert solid["log_contrast"] < texture["log_contrast"]
    assert noise["noise_ratio"] > 2 * texture["noise_ratio"]


def _colored(name):
    return {"colors": [{"name": name, "lab": list(named_color_lab(name)), "share": 1.0}]}


@pytest.mark.parametrize(
    ("query", "candidate", "verdict"),
    [("red", "rust", "matches"), ("red", "orange", "close"), ("red", "terracotta", "matches"),
     ("red", "grey", "differs"), ("red", "green", "differs"), ("white", "cream", "matches")],
)  # fmt: skip
def test_colour_verdicts_follow_perceptual_distance_at_a_naming_tolerance(
    query, candidate, verdict
):
    _, matched = description_similarity(query=_colored(query), candidate=_colored(candidate))
    assert matched.verdicts["colors"] == verdict
    assert matched["colors"] is (verdict != "differs")
