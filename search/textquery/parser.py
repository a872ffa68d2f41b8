"""What a designer's text query names, as a partial description the properties strategy
matches, and the canonical words the full-text search adds.

Words are brought to their lemmas ("tiles" → "tile", "patches" → "patch"), phrases looked up
longest first in `search.textquery.lexicon`, and words after "not", "no", "without" or
"except" ignored. The material is the query's head noun: the last material word of its first
phrase ("pine tree bark" is bark, "shaggy wool rug" a carpet, "mulch of bark chips" bark), a
more specific word winning over a family word ("veined stone" is marble); "X-like" only
compares, it names nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from analysis.colors import named_color_lab
from search.textquery.lexicon import COLOR, GENERIC_TYPES, LEXICON, LONGEST_PHRASE, TYPE

# Words that end the head phrase: what follows qualifies it.
_BREAKS = frozenset({"with", "in", "of", "on", "for", "from", "and", "or", "under", "over"})
_NEGATIONS = frozenset({"not", "no", "without", "except", "non", "never"})
_TOKEN = re.compile(r"[a-zà-ÿ]+(?:-[a-zà-ÿ]+)*|,")
# Words whose colour is what makes them what they are, also as a material.
_COLOURED_MATERIALS = frozenset({"terracotta"})


@dataclass(frozen=True)
class TextQuery:
    """A parsed text query: the partial description it names ({} when it names nothing) and
    the canonical words of what it named, for the full-text search."""

    description: dict[str, Any] = field(default_factory=dict)
    terms: tuple[str, ...] = ()

    @property
    def recognised(self) -> bool:
        return bool(self.description)


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    phrase: str
    segment: int


def lemma(word: str) -> str:
    """A word's dictionary form, as far as the lexicon cares: plurals to singular."""
    if word in LEXICON or len(word) <= 3:
        return word
    candidates = []
    if word.endswith("ies"):
        candidates.append(word[:-3] + "y")
    if word.endswith(("ches", "shes", "sses", "xes", "zes")):
        candidates.append(word[:-2])
    if word.endswith("es"):
        candidates.append(word[:-1])
    if word.endswith("s") and not word.endswith("ss"):
        candidates.append(word[:-1])
    for candidate in candidates:
        if candidate in LEXICON:
            return candidate
    return candidates[0] if candidates else word


def _tokens(text: str) -> tuple[list[str], list[int]]:
    """Lemmas of the words, and the segment each belongs to (a break word or a comma starts
    a new one); negated words and "X-like" words become blanks."""
    words, segments = [], []
    segment, negated = 0, False
    for raw in _TOKEN.findall(text.lower()):
        if raw == "," or raw in _BREAKS:
            segment, negated = segment + 1, False
            continue
        if raw in _NEGATIONS:
            negated = True
            continue
        if raw.endswith(("-like", "-ish")) or negated:
            words.append("")
        else:
            words.append(lemma(raw) if "-" not in raw or raw in LEXICON else raw)
        segments.append(segment)
    return words, segments


def _matches(words: list[str], segments: list[int]) -> list[_Match]:
    """Longest lexicon phrases, left to right, never across a segment."""
    found, i = [], 0
    while i < len(words):
        for length in range(min(LONGEST_PHRASE, len(words) - i), 0, -1):
            span = words[i : i + length]
            if "" in span or len(set(segments[i : i + length])) > 1:
                continue
            phrase = " ".join(span)
            if phrase in LEXICON:
                found.append(_Match(i, i + length, phrase, segments[i]))
                i += length
                break
            # Hyphenated words also count part by part: "hand-knitted", "off-white".
            if length == 1 and "-" in phrase and (part := phrase.rsplit("-", 1)[-1]) in LEXICON:
                found.append(_Match(i, i + 1, part, segments[i]))
                i += 1
                break
        else:
            i += 1
    return found


def _head_type(matches: list[_Match]) -> tuple[str, _Match] | None:
    typed = [(m, v) for m in matches for f, v in LEXICON[m.phrase] if f == TYPE]
    if not typed:
        return None
    first_segment = min(m.segment for m, _ in typed)
    head = [(m, v) for m, v in typed if m.segment == first_segment]
    specific = [(m, v) for m, v in head if v not in GENERIC_TYPES]
    match, value = (specific or head)[-1]
    return value, match


def text_query_parse(text: str) -> TextQuery:
    """The attributes a text query names: "polished white marble" → type, finish, colour."""
    words, segments = _tokens(text)
    matches = _matches(words, segments)
    head = _head_type(matches)
    found: dict[str, Any] = {}
    terms: list[str] = []
    colors: list[str] = []
    if head is not None:
        found[TYPE] = head[0]
        terms.append(head[0])
    for match in matches:
        for field_name, value in sorted(LEXICON[match.phrase]):
            if field_name == TYPE:
                continue
            if field_name == COLOR:
                is_head = head is not None and match is head[1]
                if (not is_head or match.phrase in _COLOURED_MATERIALS) and value not in colors:
                    colors.append(value)
            elif field_name not in found:
                found[field_name] = value
                terms.append(value)
    if colors:
        found[COLOR] = [
            {"name": name, "lab": list(named_color_lab(name)), "share": 1.0} for name in colors
        ]
        terms += colors
    return TextQuery(description=found, terms=tuple(dict.fromkeys(terms)))


def description_from_text(text: str) -> dict[str, Any]:
    """The partial description a text query names; {} when it names none."""
    return text_query_parse(text).description


def fulltext_query(text: str) -> str:
    """The words the full-text search looks for: the query's own and the canonical words of
    what it names ("weathered wooden planks" also looks for "wood")."""
    terms = text_query_parse(text).terms if text.strip() else ()
    return " ".join([text, *terms]).strip()
