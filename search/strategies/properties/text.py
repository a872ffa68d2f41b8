"""The attributes a text query names, as a partial description to match."""

from __future__ import annotations

import re
from typing import Any

from analysis.colors import NAMED_COLORS, named_color_lab
from analysis.description import FINISHES, MATERIAL_TYPES, PATTERNS, SYNONYMS


def _vocabulary() -> list[tuple[str, str, str]]:
    """(phrase, field, value) for every word a text query may use, longest phrases first."""
    entries = [(t, "material_type", t) for t in MATERIAL_TYPES if t != "other"]
    entries += [(f, "finish", f) for f in FINISHES if f != "unknown"]
    entries += [(p, "pattern", p) for p in PATTERNS if p != "unknown"]
    entries += [(c, "colors", c) for c in NAMED_COLORS]
    for field, table in SYNONYMS.items():
        entries += [(word, field, value) for word, value in table.items()]
    return sorted(set(entries), key=lambda e: -len(e[0]))


_VOCABULARY = _vocabulary()


def description_from_text(text: str) -> dict[str, Any]:
    """The attributes a text query names ("polished white marble" → type, finish, colour), as
    a partial description; {} when it names none."""
    remaining = " " + re.sub(r"[^a-z ]+", " ", text.lower()) + " "
    matches: list[tuple[int, str, str]] = []
    for phrase, field, value in _VOCABULARY:
        token = f" {phrase} "
        position = remaining.find(token)
        if position < 0:
            continue
        # Longest phrases first, blanked out, so "dark grey" is not also "grey".
        remaining = remaining.replace(token, " " + "_" * (len(token) - 2) + " ")
        matches.append((position, field, value))
    found: dict[str, Any] = {}
    colors: list[dict[str, Any]] = []
    for _, field, value in sorted(matches):  # the first-named value of a field wins
        if field == "colors":
            colors.append({"name": value, "lab": list(named_color_lab(value)), "share": 1.0})
        elif field not in found and value in {*MATERIAL_TYPES, *FINISHES, *PATTERNS}:
            found[field] = value.replace(" ", "_") if field != "material_type" else value
    if colors:
        found["colors"] = colors
    return found
