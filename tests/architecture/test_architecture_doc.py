"""docs/ARCHITECTURE.md is a newcomer's map, so what it names must be there: every file or folder
it names (`search/state.py`, `config/store/`, or one relative to an app, `ratelimit/headers.py`),
every dotted module of the apps (`analysis.http.download`, with the name it says lives there:
`search.database.connection`) and every setting (`SWATCH_…`: a declared variable or a setting)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "ARCHITECTURE.md"
APPS = ("materials", "analysis", "search", "access", "config")
CODE = re.compile(r"`([^`\n]+)`")
PATH = re.compile(r"[a-z_]+(?:/[\w.*-]+)+/?")
DOTTED = re.compile(rf"(?<![\w./])(?:{'|'.join(APPS)})(?:\.[a-z_]\w*)+(?![\w/])")
FILE_ENDINGS = {"py", "js", "css", "html", "json", "md", "txt", "yml", "sh"}
# Names in code spans that are not the project's files or modules.
NOT_OURS = {
    "pgvector/pgvector": "a Docker image",
    "chat/completions": "an OpenAI-compatible API's path",
    "analysis.depth_note": "a field of the API's answer",
}


def _named() -> list[tuple[int, str]]:
    return [
        (number, code)
        for number, line in enumerate(DOC.read_text().splitlines(), 1)
        for code in CODE.findall(line)
    ]


def _path_exists(name: str) -> bool:
    if name.startswith("shared/"):  # the shared data, beside the project
        return (ROOT.parent / name).exists()
    if name.split("/")[0] in {p.name for p in ROOT.iterdir()}:
        return any(ROOT.glob(name.rstrip("/"))) or (ROOT / name).exists()
    return any(ROOT.glob(f"*/{name.rstrip('/')}"))  # relative to an app


def _dotted_exists(name: str) -> bool:
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:cut])
        module = (
            base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"
        )
        if module.exists():
            rest = parts[cut:]
            return (
                not rest or re.search(rf"\b{re.escape(rest[0])}\b", module.read_text()) is not None
            )
    return False


def test_every_file_and_folder_the_page_names_exists():
    missing = [
        (number, name)
        for number, code in _named()
        if not code.startswith(("/", "../", "./")) and PATH.fullmatch(code)
        for name in [code]
        if name not in NOT_OURS and not _path_exists(name)
    ]
    assert not missing, f"docs/ARCHITECTURE.md names what is not there (line, name): {missing}"


def test_every_module_the_page_names_exists_with_what_it_says_is_there():
    missing = [
        (number, name)
        for number, code in _named()
        for name in DOTTED.findall(code)
        if name not in NOT_OURS
        and name.rsplit(".", 1)[-1] not in FILE_ENDINGS
        and not _dotted_exists(name)
    ]
    assert not missing, f"docs/ARCHITECTURE.md names what is not there (line, name): {missing}"


def test_every_setting_the_page_names_is_declared():
    from django.conf import settings

    from config.env.registry import REGISTRY

    named = set(re.findall(r"\b(SWATCH_[A-Z0-9_]*[A-Z0-9])\b", DOC.read_text()))
    unknown = sorted(n for n in named if n not in REGISTRY and not hasattr(settings, n))
    assert named
    assert not unknown, f"docs/ARCHITECTURE.md names settings that do not exist: {unknown}"


def test_the_check_sees_a_missing_name():
    assert not _path_exists("search/no_such_module.py")
    assert not _path_exists("ratelimit/no_such.py")
    assert not _dotted_exists("analysis.http.no_such_function")
    assert _path_exists("ratelimit/headers.py")
    assert _dotted_exists("search.database.connection")
