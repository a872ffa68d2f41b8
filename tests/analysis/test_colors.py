"""CIEDE2000 (one implementation, vectorised), on one pair, many pairs and the palette."""

import math

import numpy as np
import pytest

from analysis.colors import (
    color_name,
    delta_e00,
    delta_e00_many,
    named_color_lab,
    palette_distances,
)

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


def test_many_at_once_agrees_with_the_published_test_data_in_one_call():
    # when every published pair is compared in one vectorised call
    first = np.array([pair[0] for pair in SHARMA])
    second = np.array([pair[1] for pair in SHARMA])
    many = delta_e00_many(first, second)

    # then each element is that pair's published difference
    assert np.abs(many - np.array([pair[2] for pair in SHARMA])).max() < 5e-5


def test_the_nearest_palette_colour_is_the_one_at_the_smallest_difference():
    # given a colour a little off the palette's red
    red = named_color_lab("red")
    near_red = (red[0] + 1.0, red[1] - 1.0, red[2])

    # when its differences to the palette are taken
    distances = palette_distances(near_red)

    # then red is the nearest, at its pairwise difference, and its name is red
    assert min(distances, key=distances.__getitem__) == "red"
    assert distances["red"] == pytest.approx(delta_e00(near_red, red), abs=1e-12)
    assert color_name(near_red) == "red"


def test_many_broadcasts_to_a_distance_matrix():
    queries = np.array([[50.0, 10.0, 10.0], [70.0, -5.0, 20.0]])
    palette = np.array([[50.0, 10.0, 10.0], [30.0, 0.0, 0.0], [70.0, -5.0, 21.0]])

    matrix = delta_e00_many(queries[:, None, :], palette[None, :, :])

    assert matrix.shape == (2, 3)
    assert matrix[0, 0] == 0.0
    assert math.isclose(matrix[1, 2], delta_e00(tuple(queries[1]), tuple(palette[2])))
