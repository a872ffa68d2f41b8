"""Prometheus series of the catalog side (prometheus-client; multiprocess-safe counters).

`swatch_validation_failures_total` is shared: the image intake counts its refusals here, and
the analysis app counts descriptions that fail their validation in the same series.
"""

from __future__ import annotations

from prometheus_client import Counter

VALIDATION_FAILURES = Counter(
    "swatch_validation_failures",
    "Inputs refused by validation, by stage (image_intake: an uploaded or imported image; "
    "description: a model's description that failed the schema or the quality check) and code.",
    ["stage", "code"],
)
