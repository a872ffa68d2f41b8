import pytest

from search.fusion import Fused, Hit, cutoff, fuse, fuse_relative, fuse_rrf

A, B, C = 1, 2, 3


def lists():
    return {
        "vector": [Hit(A, 0.9, good=True), Hit(B, 0.8), Hit(C, 0.7)],
        "properties": [Hit(C, 0.5), Hit(B, 0.95, details={"matched": {"colors": True}})],
    }


def test_weighted_rrf_sums_weight_over_k_plus_rank():
    # given two strategies, the second weighted half
    # when fused by reciprocal rank with k = 60
    fused = fuse_rrf(lists(), {"vector": 1.0, "properties": 0.5}, k=60)

    # then each score is Σ w / (60 + rank), and B (2nd + 1st) beats A (1st only)
    assert [f.material_id for f in fused] == [B, C, A]
    assert fused[0].score == pytest.approx(1 / 62 + 0.5 / 61, abs=1e-12)
    assert fused[1].score == pytest.approx(1 / 63 + 0.5 / 62, abs=1e-12)
    assert fused[2].score == pytest.approx(1 / 61, abs=1e-12)
    assert fused[0].scores["properties"].rank == 1
    assert fused[0].scores["vector"].rank == 2
    assert fused[0].scores["properties"].details == {"matched": {"colors": True}}
    assert "properties" not in fused[2].scores


def test_relative_score_fusion_normalises_each_list_to_unit_range():
    # given the same lists
    # when fused by relative score
    fused = fuse_relative(lists(), {"vector": 1.0, "properties": 0.6})

    # then vector 0.7..0.9 → 0..1 and properties 0.5..0.95 → 0..1, weighted and summed
    scores = {f.material_id: f.score for f in fused}
    assert scores[A] == pytest.approx(1.0)
    assert scores[B] == pytest.approx(0.5 + 0.6)
    assert scores[C] == pytest.approx(0.0)
    assert [f.material_id for f in fused] == [B, A, C]


def test_weights_change_the_winner():
    # given the vector strategy alone weighted
    fused = fuse(lists(), {"vector": 1.0, "properties": 0.0})

    # then properties adds nothing (not even materials) and A wins
    assert [f.material_id for f in fused] == [A, B, C]
    assert all("properties" not in f.scores for f in fused)


def test_cutoff_keeps_the_good_matches_and_always_the_nearest():
    fused = [Fused(A, 3.0, {}, relevance=0.9), Fused(B, 2.0, {}, relevance=0.6),
             Fused(C, 1.0, {}, relevance=0.1)]  # fmt: skip

    # the good matches, past the first place as well
    assert [f.material_id for f in cutoff(fused, 0.5, nearest=1)] == [A, B]
    # nothing good: the nearest are listed all the same
    assert [f.material_id for f in cutoff(fused, 0.95, nearest=2)] == [A, B]


def test_ties_are_broken_by_material_id():
    fused = fuse_rrf({"vector": [Hit(C, 0.5), Hit(A, 0.5)]}, {"vector": 1.0}, k=0)

    assert [(f.material_id, f.score) for f in fused] == [(A, 1.0), (C, 0.5)]
