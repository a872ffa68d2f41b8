"""CIEDE2000, one pair at a time and many at once."""

import math

import numpy as np
import pytest

from analysis.colors import delta_e00, delta_e00_many

# Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula: implementation notes",
# a selection of their test pairs (blue hue region, achromatic, hue wrap-around, mid range).
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, -1.3802, -84.2814), (50.0, 0.0, -82.7485), 1.0000),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
    ((50.0, 2.5, 0.0), (50.0, 0.0, -2.5), 4.3065),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((22.7233, 20.0904, -46.694), (23.0331, 14.973, -42.5619), 2.0373),
    ((90.8027, -2.0831, 1.441), (91.1528, -1.6435, 0.0447), 1.4441),
    ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
]


@pytest.mark.parametrize(("lab1", "lab2", "expected"), SHARMA)
def test_both_agree_with_the_published_test_data(lab1, lab2, expected):
    assert delta_e00(lab1, lab2) == pytest.approx(expected, abs=5e-5)
    assert float(delta_e00_many(np.array(lab1), np.array(lab2))) == pytest.approx(
        expected, abs=5e-5
    )


def test_many_at_once_equals_one_at_a_time():
    # given random pairs, with achromatic colours and hue differences past 180°
    rng = np.random.default_rng(3)
    first = np.column_stack([rng.uniform(0, 100, 2000), rng.uniform(-90, 90, (2000, 2))])
    second = np.column_stack([rng.uniform(0, 100, 2000), rng.uniform(-90, 90, (2000, 2))])
    first[:20, 1:] = 0.0
    second[10:30, 1:] = 0.0

    # when
    many = delta_e00_many(first, second)

    # then
    one = [delta_e00(tuple(a), tuple(b)) for a, b in zip(first, second, strict=True)]
    assert np.abs(many - np.asarray(one)).max() < 1e-9


def test_many_broadcasts_to_a_distance_matrix():
    queries = np.array([[50.0, 10.0, 10.0], [70.0, -5.0, 20.0]])
    palette = np.array([[50.0, 10.0, 10.0], [30.0, 0.0, 0.0], [70.0, -5.0, 21.0]])

    matrix = delta_e00_many(queries[:, None, :], palette[None, :, :])

    assert matrix.shape == (2, 3)
    assert matrix[0, 0] == 0.0
    assert math.isclose(matrix[1, 2], delta_e00(tuple(queries[1]), tuple(palette[2])))
