"""config.lazy.Lazy: made once, by the first of many threads, and tried again after a failure."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from config.lazy import Lazy


def test_many_threads_asking_at_once_make_it_once():
    made: list[int] = []
    release = threading.Event()
    start = threading.Barrier(8)

    def make() -> object:
        release.wait()
        made.append(1)
        return object()

    lazy = Lazy(make)

    def ask() -> object:
        start.wait()
        return lazy.get()

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(ask) for _ in range(8)]
        release.set()
        values = {id(future.result()) for future in futures}

    assert (len(made), len(values), lazy.made) == (1, 1, True)


def test_a_failed_make_is_tried_again():
    attempts: list[int] = []

    def make() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise FileNotFoundError("weights not exported yet")
        return "session"

    lazy = Lazy(make)
    assert not lazy.made
    with pytest.raises(FileNotFoundError):
        lazy.get()
    assert not lazy.made

    assert lazy.get() == "session"
    assert lazy.get() == "session"
    assert len(attempts) == 2
