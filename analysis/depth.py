"""How much analysis a caller pays for: `analysis: {"vision", "clip", "depth"}` per request.

Depth changes what the vision model is asked and what it may answer (each its own prompt
version, so its own cache key, and its own `max_tokens`):

- `basic`: the material type and colours; the rest filled briefly, summary one sentence.
- `detailed`: the description as it always was (the default; `PROMPT_VERSION`).
- `comprehensive`: detailed, plus up to 12 notable properties, every per-field confidence and a
  summary of three to five sentences — checked: an answer without them is repaired once, then
  rejected.

`AtDepth` wraps any describer so that its `prompt_version` and the `hints.depth` of each call
are the depth's. The offline analyser honours depths with what pixels can tell and notes what
they cannot (`analysis.providers.offline_depth`); a describer that does not know depths at all
answers with its one description, and says so (`DescriptionResult.depth_note`) when asked for
more.
`vision: false` leaves the vision model out; `clip: false` uses the offline embedder.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from PIL import Image

from analysis.prompts import PROMPT_VERSION
from analysis.providers.protocols import NO_HINTS, DescribeHints, DescriptionResult

DEPTHS = ("basic", "detailed", "comprehensive")
DEFAULT_DEPTH = "detailed"
MAX_TOKENS = {"basic": 500, "comprehensive": 2000}  # detailed: SWATCH_VISION_MAX_TOKENS
INSTRUCTIONS = {
    "basic": "Depth: basic. What matters is material_type, category, colors and lightness: get "
    "those right. Keep texture short, finish and pattern may be 'unknown', properties may be "
    "empty, the summary is one short sentence.",
    "comprehensive": "Depth: comprehensive. Give up to 12 notable properties (at least one), "
    "every confidence field (overall, material_type, colors, texture, finish, pattern) and a "
    "summary of three to five sentences covering look, finish, likely use and care.",
}
OFFLINE_NOTE = "this describer gives one description at every depth"


def depth_prompt_version(depth: str) -> str:
    return PROMPT_VERSION if depth == DEFAULT_DEPTH else f"{PROMPT_VERSION}.{depth}"


def depth_max_tokens(depth: str, *, detailed: int) -> int:
    return MAX_TOKENS.get(depth, detailed)


def depth_check(raw: Any, depth: str) -> list[str]:
    """What a `comprehensive` answer misses (the schema itself is checked by the parser)."""
    if depth != "comprehensive" or not isinstance(raw, dict):
        return []
    reasons = []
    confidence = raw.get("confidence") if isinstance(raw.get("confidence"), dict) else {}
    missing = [k for k in ("colors", "texture", "finish", "pattern") if k not in confidence]
    if missing:
        reasons.append(f"confidence: comprehensive needs {', '.join(missing)} too")
    if not raw.get("properties"):
        reasons.append("properties: comprehensive needs at least one notable property")
    return reasons


@dataclass(frozen=True)
class AnalysisOptions:
    vision: bool = True
    clip: bool = True
    depth: str = DEFAULT_DEPTH

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def options_words(options: AnalysisOptions) -> str:
    """The options as a curator reads them (audit notes, admin messages)."""
    return ", ".join(
        [
            f"depth {options.depth}",
            "vision model" if options.vision else "no vision model",
            "CLIP" if options.clip else "offline embedders",
        ]
    )


class AnalysisOptionsInvalid(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def analysis_options_parse(raw: Any) -> AnalysisOptions:
    """`{"vision": bool, "clip": bool, "depth": …}` (each optional) as `AnalysisOptions`."""
    if raw in (None, "", {}):
        return AnalysisOptions()
    if not isinstance(raw, dict):
        raise AnalysisOptionsInvalid("analysis", "analysis must be an object.")
    unknown = sorted(set(raw) - {"vision", "clip", "depth"})
    if unknown:
        raise AnalysisOptionsInvalid(
            f"analysis.{unknown[0]}", "analysis has vision, clip and depth only."
        )
    for name in ("vision", "clip"):
        if name in raw and not isinstance(raw[name], bool):
            raise AnalysisOptionsInvalid(
                f"analysis.{name}", f"analysis.{name} must be true or false."
            )
    depth = raw.get("depth", DEFAULT_DEPTH)
    if depth not in DEPTHS:
        raise AnalysisOptionsInvalid(
            "analysis.depth", f"analysis.depth must be one of {', '.join(DEPTHS)}."
        )
    return AnalysisOptions(raw.get("vision", True), raw.get("clip", True), depth)


class AtDepth:
    """An `ImageDescriber` asking `inner` for its description at `depth`."""

    def __init__(self, inner: Any, depth: str) -> None:
        self.inner = inner
        self.depth = depth

    def __getattr__(self, name: str) -> Any:  # model_id, source, embedding_model, links…
        return getattr(self.inner, name)

    @property
    def prompt_version(self) -> str:
        return self.inner.prompt_version_for(self.depth)

    def describe(self, image: Image.Image, *, hints: DescribeHints = NO_HINTS) -> DescriptionResult:
        result = self.inner.describe(image, hints=dataclasses.replace(hints, depth=self.depth))
        if result.depth != self.depth and not result.depth_note:
            note = OFFLINE_NOTE if self.depth == "comprehensive" else ""
            result = dataclasses.replace(result, depth_note=note)
        return result
