"""Text queries as designers write them: lemmas, plurals, synonyms, the head noun, negation."""

import csv
from pathlib import Path

import pytest

from analysis.colors import NAMED_COLORS
from analysis.description import FINISHES, MATERIAL_TYPES, PATTERNS
from search.textquery import description_from_text, fulltext_query, lemma, text_query_parse
from search.textquery.lexicon import LEXICON
from tests.conftest import SHARED_DATA

# Queries written for these tests, not the development set's (shared/data's text_queries.csv).
EXTRA_QUERIES = Path(__file__).resolve().parents[1] / "fixtures" / "text_queries_extra.csv"


def _type(text: str) -> str | None:
    return description_from_text(text).get("material_type")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("weathered wooden planks", "wood"),
        ("oak floorboards", "wood"),
        ("terracotta", "tile"),
        ("ceramic", "tile"),
        ("mosaic", "tile"),
        ("cement", "concrete"),
        ("screed", "concrete"),
        ("rugs", "carpet"),
        ("cloth", "fabric"),
        ("textiles", "fabric"),
        ("upholstery", "fabric"),
        ("veined", "marble"),
        ("pine tree bark", "bark"),  # the head noun decides
        ("shaggy wool rug", "carpet"),
        ("mulch of bark chips", "bark"),  # the first phrase is the head
        ("onyx-like veined stone", "marble"),  # "X-like" names nothing; specific beats family
        ("brick paving in a herringbone bond", "brick"),
    ],
)
def test_designer_words_name_the_material(text, expected):
    assert _type(text) == expected


def test_plurals_come_to_their_lemma():
    assert [lemma(w) for w in ("tiles", "planks", "patches", "glasses", "grass", "canvas")] == [
        "tile",
        "plank",
        "patch",
        "glass",
        "grass",
        "canvas",
    ]


def test_colours_finishes_patterns_and_negation():
    found = description_from_text("Polished dark grey marble with veining, not timber")
    assert found["material_type"] == "marble"
    assert found["finish"] == "polished"
    assert found["pattern"] == "veined"
    assert [c["name"] for c in found["colors"]] == ["dark grey"]
    checkered = text_query_parse("checkered terracotta floor")
    assert checkered.description["material_type"] == "tile"
    assert checkered.description["pattern"] == "checked"
    assert [c["name"] for c in checkered.description["colors"]] == ["terracotta"]
    # a metal named as the material is not also its colour ("oxidised copper" is green)
    assert "colors" not in description_from_text("oxidised copper with patina")


def test_a_query_that_names_nothing_is_left_to_the_semantic_strategy():
    parsed = text_query_parse("something nice")
    assert parsed.description == {}
    assert not parsed.recognised
    assert fulltext_query("something nice") == "something nice"
    assert fulltext_query("weathered wooden planks") == "weathered wooden planks wood"


def test_every_lexicon_entry_names_a_value_of_the_vocabulary():
    allowed = {
        "material_type": set(MATERIAL_TYPES),
        "colors": set(NAMED_COLORS),
        "finish": set(FINISHES),
        "pattern": set(PATTERNS),
    }
    wrong = [
        (p, f, v) for p, meanings in LEXICON.items() for f, v in meanings if v not in allowed[f]
    ]
    assert wrong == []


@pytest.mark.parametrize(
    "path", [SHARED_DATA / "text_queries.csv", EXTRA_QUERIES], ids=["development", "extra"]
)
def test_most_queries_name_the_category_they_should_find(path):
    rows = list(csv.DictReader(path.open()))
    right = [r for r in rows if _type(r["text"]) in {r["category"], "granite"} - {None}]
    stone_kinds = [r for r in right if _type(r["text"]) == "granite"]
    assert all(r["category"] == "stone" for r in stone_kinds)
    assert len(right) / len(rows) >= 0.9, [r["text"] for r in rows if r not in right]
