"""The decode cost is bounded: a very large image is reduced right after decoding, and one
process holds at most its decoded-memory budget at once (uploads past it wait their turn)."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest
from PIL import Image

from materials.decode_budget import DecodeBudget, memory_release
from materials.intake import WORKING_MAX_PIXELS, image_decode, image_normalise

LARGE = (6000, 4000)  # 24 MP: above the working size, under the 40 MP cap


def _smooth_png(size) -> bytes:
    cells = np.random.default_rng(3).integers(0, 255, (size[1] // 200 + 1, size[0] // 200 + 1, 3))
    image = Image.fromarray(cells.astype(np.uint8)).resize(size, Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def large_png() -> bytes:
    return _smooth_png(LARGE)


def test_a_very_large_image_is_reduced_to_the_working_size(large_png):
    pixels = image_decode(data=large_png)
    assert pixels.width * pixels.height <= WORKING_MAX_PIXELS
    assert pixels.size == (3000, 2000)  # by a whole factor: the same proportions
    assert pixels.mode == "RGB"


def test_the_catalog_and_the_query_reduce_the_same_way(large_png):
    # same pixels, same vector: the embedders' input is made from the same working image
    from materials.intake import embedding_input

    stored = image_normalise(data=large_png)
    queried = embedding_input(image_decode(data=large_png))
    kept = Image.open(io.BytesIO(stored.embedding_input))
    assert kept.size == queried.size
    assert np.array_equal(np.asarray(kept.convert("RGB")), np.asarray(queried))


def test_the_orientation_of_a_reduced_image_is_still_applied():
    image = Image.fromarray(np.zeros((4000, 6000, 3), dtype=np.uint8))  # landscape
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on display
    buffer = io.BytesIO()
    image.save(buffer, "PNG", exif=exif.tobytes())
    assert image_decode(data=buffer.getvalue()).size == (2000, 3000)  # upright: portrait


def test_a_decode_past_the_budget_waits_until_memory_is_given_back():
    budget = DecodeBudget(100)
    first_in, second_in, release_first = threading.Event(), threading.Event(), threading.Event()

    def first():
        with budget.reserved(80):
            first_in.set()
            release_first.wait(30)

    def second():
        with budget.reserved(80):
            second_in.set()

    a = threading.Thread(target=first)
    a.start()
    assert first_in.wait(30)
    b = threading.Thread(target=second)
    b.start()
    # while the first holds 80 of 100, the second (80) waits
    assert not second_in.wait(0.5)
    assert budget.used == 80
    release_first.set()
    assert second_in.wait(30)
    a.join(30)
    b.join(30)
    assert budget.used == 0


def test_an_image_larger_than_the_whole_budget_decodes_alone():
    budget = DecodeBudget(100)
    with budget.reserved(10_000):
        assert budget.used == 100
    assert budget.used == 0


def test_freed_memory_is_given_back_to_the_system_on_glibc():
    assert memory_release() is True
