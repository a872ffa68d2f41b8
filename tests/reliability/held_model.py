"""The model of the killed-worker tests, run inside a real worker process.

It logs each call it gets (`started <image>`) and each answer it gives (`billed <image>`: a
provider bills an answered call), answers the first `allow` calls (a number in a file) and
holds the next ones until the test opens the gate, so the test can kill the worker while
tasks are in the middle of a model call.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from PIL import Image

from analysis.pipeline import PipelineProviders
from analysis.providers.fallback import pixels_sha256
from analysis.providers.protocols import NO_HINTS, DescribeHints, DescriptionResult, ProviderError
from tests.analysis.pipeline_support import PixelStatsDescriber, gate_dir, make_providers


def held_dir() -> Path:
    path = gate_dir() / "held"
    path.mkdir(exist_ok=True)
    return path


def calls(kind: str) -> Counter:
    log = held_dir() / "calls.log"
    lines = log.read_text().split("\n") if log.exists() else []
    return Counter(line.split()[1] for line in lines if line.startswith(f"{kind} "))


def _log(line: str) -> None:
    with (held_dir() / "calls.log").open("a") as log:
        log.write(line + "\n")


class HeldDescriber(PixelStatsDescriber):
    def describe(self, image: Image.Image, *, hints: DescribeHints = NO_HINTS) -> DescriptionResult:
        gates, key = held_dir(), pixels_sha256(image)[:16]
        _log(f"started {key}")
        allow = int((gates / "allow").read_text())
        deadline = time.monotonic() + 300
        while not (gates / "open").exists() and sum(calls("billed").values()) >= allow:
            if time.monotonic() > deadline:
                raise ProviderError("gate never opened", retryable=False, code="test_gate")
            time.sleep(0.05)
        result = super().describe(image, hints=hints)
        _log(f"billed {key}")
        return result


def held_providers() -> PipelineProviders:
    """`SWATCH_PIPELINE_PROVIDERS` of the worker processes in the killed-worker tests."""
    return make_providers(describer=HeldDescriber())
