"""The offline analyser at each analysis depth (`analysis.depth`): what pixels can tell, shaped
as the depth asks, and a note of what they cannot.

- `basic`: the material type and colours (with lightness) only; finish and pattern are not
  assessed ("unknown", confidence 0), no properties, a one-sentence summary — a smaller answer
  under its own prompt version, so its own cache key.
- `detailed`: the analyser's one description (`offline-1`).
- `comprehensive`: detailed plus what the pixels add — the type classifier's runner-ups, colour
  shares, texture measures as properties, every per-field confidence (the analyser has them
  all) and a summary of several sentences. Finish (gloss needs the lighting), likely use and
  care cannot be judged from pixels: `depth_note` says so.
"""

from __future__ import annotations

from typing import Any

from analysis.offline.pixels import PixelStats

VERSION_AT = {"basic": "basic", "comprehensive": "comprehensive"}  # detailed: the plain one
COMPREHENSIVE_NOTE = (
    "offline analyser: finish, likely use and care cannot be judged from pixels (no vision "
    "model); the rest is measured"
)
RUNNER_UP_SHARE = 0.1  # a runner-up type worth naming


def offline_prompt_version(base: str, depth: str) -> str:
    return f"{base}.{VERSION_AT[depth]}" if depth in VERSION_AT else base


def offline_at_depth(
    raw: dict[str, Any], stats: PixelStats, ranked: list[tuple[str, float]], depth: str
) -> tuple[dict[str, Any], str]:
    """The detailed `raw` description reshaped for `depth`, and what could not be done."""
    if depth == "basic":
        return _basic(raw, ranked), ""
    if depth == "comprehensive":
        return _comprehensive(raw, stats, ranked), COMPREHENSIVE_NOTE
    return raw, ""


def _colour_words(raw: dict[str, Any], most: int = 4) -> str:
    return ", ".join(f"{c['name']} {c['share']:.0%}" for c in raw["colors"][:most])


def _basic(raw: dict[str, Any], ranked: list[tuple[str, float]]) -> dict[str, Any]:
    confidence = raw["confidence"]
    material_type, probability = raw["material_type"], ranked[0][1]
    return {
        **raw,
        "texture": {**raw["texture"], "description": ""},
        "finish": "unknown",
        "pattern": "unknown",
        "properties": [],
        "confidence": {
            "overall": confidence["overall"],
            "material_type": confidence["material_type"],
            "colors": confidence["colors"],
            "texture": confidence["texture"],
            "finish": 0.0,  # not assessed at this depth
            "pattern": 0.0,
        },
        "summary": f"Offline pixel analysis (basic): {material_type} ({probability:.0%}), "
        f"colours {_colour_words(raw, 3)}.",
    }


def _extra_properties(
    raw: dict[str, Any], stats: PixelStats, ranked: list[tuple[str, float]]
) -> list[str]:
    extra = [f"{stats.scale} texture", f"{raw['pattern']} pattern"]
    top = raw["colors"][0]
    extra.append(f"mostly {top['name']} ({top['share']:.0%})")
    extra.append(f"lightness {stats.lightness:.0f} of 100")
    extra += [f"possibly {name}" for name, p in ranked[1:3] if p >= RUNNER_UP_SHARE]
    return extra


def _comprehensive(
    raw: dict[str, Any], stats: PixelStats, ranked: list[tuple[str, float]]
) -> dict[str, Any]:
    properties = list(dict.fromkeys([*raw["properties"], *_extra_properties(raw, stats, ranked)]))
    guesses = "; ".join(f"{name} {p:.0%}" for name, p in ranked[:3])
    sentences = [
        "Offline pixel analysis at comprehensive depth, no vision model.",
        f"Material type guessed from the image embedding: {guesses}.",
        f"Colours by share: {_colour_words(raw)}; lightness {stats.lightness:.0f} of 100.",
        f"{raw['pattern'].capitalize()} pattern, {stats.direction} direction; {stats.scale} "
        f"texture, regularity {stats.regularity:.2f}, contrast {stats.contrast:.2f}.",
        "Finish, likely use and care cannot be judged from pixels.",
    ]
    return {**raw, "properties": properties[:12], "summary": " ".join(sentences)[:600]}
