"""The sliding-window estimate against figures worked out by hand: a window's count plus the
previous window's, weighted by how much of it still overlaps the last `seconds`; a refused hit
is taken back and says when the estimate is under the limit again."""

import pytest

from search.conf import Rate
from search.ratelimit.windows import rate_decide

pytestmark = pytest.mark.django_db
START = 1_800_000_000.0  # the start of a minute window (a multiple of 60)
MINUTE = {"minute": Rate(requests=10, seconds=60)}


def test_the_previous_window_counts_by_its_overlap_and_the_wait_is_exact():
    # given 8 hits early in one minute window
    for i in range(8):
        assert rate_decide(ident="slide", rates=MINUTE, now=START + 10 + i).allowed

    # when, half-way through the next window, 6 hits come: 8 × (1 − 30/60) + 6 = 10
    sixth = [rate_decide(ident="slide", rates=MINUTE, now=START + 90) for _ in range(6)][-1]
    # then all pass, the estimate is exactly at the limit, the window ends in 30 s
    assert sixth.allowed
    assert sixth.windows[0].used == pytest.approx(10.0)
    assert sixth.windows[0].reset_in == pytest.approx(30.0)

    # when a 7th comes: 4 + 7 = 11 > 10, refused; back under once 8 × (1 − t/60) + 7 ≤ 10,
    # t ≥ 37.5 s: 7.5 s from now
    seventh = rate_decide(ident="slide", rates=MINUTE, now=START + 90)
    assert not seventh.allowed
    assert seventh.retry_after == pytest.approx(7.5)
    assert seventh.windows[0].used == pytest.approx(10.0)  # the refused hit taken back

    # then 7 s later it is still refused (8 × 23/60 + 7 = 10.07), at 7.5 s it passes (= 10)
    assert not rate_decide(ident="slide", rates=MINUTE, now=START + 97.0).allowed
    assert rate_decide(ident="slide", rates=MINUTE, now=START + 97.5).allowed


def test_a_window_two_back_no_longer_counts():
    # given the limit used up in one window
    for i in range(10):
        assert rate_decide(ident="gone", rates=MINUTE, now=START + i).allowed
    assert not rate_decide(ident="gone", rates=MINUTE, now=START + 59).allowed

    # when two windows later (the previous window is empty), the full limit is there again
    later = [rate_decide(ident="gone", rates=MINUTE, now=START + 125).allowed for _ in range(11)]
    assert later == [True] * 10 + [False]
