"""Search reads the other apps' data through their selectors or their read model
(`analysis/read_model.py`), never by writing their status, source or kind values into its own
SQL: a renamed status would otherwise leave a search quietly reading the wrong rows."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.db import models

import access.models
import analysis.models
import materials.models

ROOT = Path(__file__).resolve().parents[2]
SQL = re.compile(r"\b(SELECT|WHERE|JOIN|FROM|AND|OR|FILTER|UPDATE|INSERT)\b")
QUOTED = re.compile(r"'([^']*)'")


def _other_apps_values() -> set[str]:
    values: set[str] = set()
    for module in (analysis.models, materials.models, access.models):
        choices = [o for o in vars(module).values() if isinstance(o, type)]
        for obj in choices:
            if issubclass(obj, models.Choices) and obj is not models.Choices:
                values.update(str(v) for v in obj.values)
    return values


def _sql_literals(source: str, values: set[str]) -> list[tuple[int, str]]:
    """(line, value) of each of `values` quoted in a string of `source` that reads as SQL
    (f-strings included: their constant parts)."""
    return [
        (node.lineno, value)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value)
        for value in QUOTED.findall(node.value)
        if value in values
    ]


def test_the_values_are_known():
    # The check means something only if it knows the values it looks for.
    assert {"rejected", "approved", "curated", "image", "description"} <= _other_apps_values()


def test_search_sql_holds_no_status_or_kind_value_of_another_app():
    values = _other_apps_values()
    files = [p for p in sorted((ROOT / "search").rglob("*.py")) if "migrations" not in p.parts]
    found = [
        f"{path.relative_to(ROOT)}:{line}: '{value}'"
        for path in files
        for line, value in _sql_literals(path.read_text(), values)
    ]
    assert not found, (
        "search SQL spells another app's status/source/kind value; build the condition with "
        f"analysis.read_model (or a selector) instead: {found}"
    )


def test_the_check_finds_a_literal_also_in_an_f_string():
    source = (
        "A = \"SELECT 1 FROM t va WHERE va.status = 'rejected'\"\n"
        "B = f\"SELECT 1 FROM {t} e WHERE e.kind = 'image'\"\n"
        "C = \"not sql: 'rejected'\"\n"
    )
    assert _sql_literals(source, {"rejected", "image"}) == [(1, "rejected"), (2, "image")]
