"""The code's shape is checked, not only written down: no module in the apps over 300 lines
(migrations aside) and no function over 60 (issue 11 removed the last breaches: none is
tolerated)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("materials", "analysis", "search", "access", "config")
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60


def _measure() -> dict[str, int]:
    sizes: dict[str, int] = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            name = path.relative_to(ROOT).as_posix()
            source = path.read_text()
            lines = len(source.splitlines())
            if lines > MAX_MODULE_LINES:
                sizes[name] = lines
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    length = node.end_lineno - node.lineno + 1
                    if length > MAX_FUNCTION_LINES:
                        sizes[f"{name}::{node.name}"] = max(
                            length, sizes.get(f"{name}::{node.name}", 0)
                        )
    return sizes


def test_no_long_modules_or_functions():
    too_long = _measure()
    assert not too_long, (
        f"over {MAX_MODULE_LINES} lines a module or {MAX_FUNCTION_LINES} a function: {too_long}; "
        "split it (a module past 300 lines becomes a package)"
    )
