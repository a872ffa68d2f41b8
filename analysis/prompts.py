"""The material-analysis prompt, versioned in code.

`PROMPT_VERSION` is stored with every analysis and is part of the analysis cache key: change
it whenever the wording or the schema changes, so old answers are not reused for new prompts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from analysis.description import (
    CATEGORY_OF_TYPE,
    DIRECTIONS,
    FINISHES,
    MATERIAL_TYPES,
    PATTERNS,
    SCHEMA_VERSION,
    TEXTURE_SCALES,
    description_json_schema,
)

PROMPT_VERSION = f"material-v1.s{SCHEMA_VERSION}"

SYSTEM_PROMPT = (
    "You are a materials specialist for architects and interior designers. You look at one "
    "photo of a material sample (wood, stone, tile, fabric, metal…) and describe what the "
    "surface is made of and how it looks. You answer with one JSON object and nothing else."
)


def material_prompt(depth: str = "detailed") -> str:
    """The user message that goes with the image, at `depth` (`analysis.depth`)."""
    from analysis.depth import INSTRUCTIONS  # it reads PROMPT_VERSION from here

    extra = f"\n{INSTRUCTIONS[depth]}" if depth in INSTRUCTIONS else ""
    schema = json.dumps(description_json_schema(), separators=(",", ":"))
    categories = ", ".join(f"{t}→{c}" for t, c in CATEGORY_OF_TYPE.items())
    return (
        "Describe the material in this image as a JSON object that validates against this "
        f"JSON Schema:\n{schema}\n\n"
        "Rules:\n"
        f"- material_type: one of {', '.join(MATERIAL_TYPES)}; category follows from it "
        f"({categories}).\n"
        "- colors: the 1–4 dominant colours, largest first; each with a plain name "
        "(e.g. 'oak brown', 'warm grey'), hex '#rrggbb', CIELAB lab [L, a, b] (L 0–100) and "
        "share (0–1, the shares add up to about 1).\n"
        "- lightness: the overall CIELAB L* of the surface, 0–100.\n"
        f"- texture: scale one of {', '.join(TEXTURE_SCALES)}; direction one of "
        f"{', '.join(DIRECTIONS)}; regularity and contrast 0–1; a short description.\n"
        f"- finish: one of {', '.join(FINISHES)}. pattern: one of {', '.join(PATTERNS)}.\n"
        "- properties: up to 8 short observable properties (e.g. 'knots', 'open grain', "
        "'grout lines').\n"
        "- confidence: 0–1 for overall, material_type, colors, texture, finish and pattern. "
        "Be honest: a close-up that could be several materials gets a low material_type "
        "confidence.\n"
        "- summary: one or two sentences a designer would find useful.\n"
        "Describe only what is visible. Output only the JSON object: no markdown, no "
        "comments, no text before or after it." + extra
    )


def repair_prompt(reasons: Sequence[str]) -> str:
    """The follow-up message when an answer did not validate: one chance to fix it."""
    listed = "\n".join(f"- {reason}" for reason in list(reasons)[:20])
    return (
        "Your answer is not a valid description:\n"
        f"{listed}\n"
        "Answer again with the complete JSON object only, fixing these problems. Keep it "
        "short: every field of the schema, no extra text."
    )
