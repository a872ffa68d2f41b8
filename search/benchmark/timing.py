"""Latency samples → the figures `bench_search` reports."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Latencies:
    """Wall-clock seconds of each call of one path, in the order they ran."""

    samples: list[float] = field(default_factory=list)

    def time(self, call: Callable[[], object]) -> object:
        started = time.perf_counter()
        result = call()
        self.samples.append(time.perf_counter() - started)
        return result

    def summary(self) -> dict[str, float]:
        """p50 and p95 in milliseconds; qps of one client calling back to back."""
        if not self.samples:
            return {"p50_ms": 0.0, "p95_ms": 0.0, "qps": 0.0}
        ms = np.asarray(self.samples) * 1000.0
        return {
            "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p95_ms": round(float(np.percentile(ms, 95)), 3),
            "qps": round(len(ms) / (float(ms.sum()) / 1000.0), 1),
        }
