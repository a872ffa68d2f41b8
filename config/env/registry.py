"""The machinery of the one package that reads the environment (`config.env`).

Every variable Swatch understands is declared once, in the module of its area, with its default
and its meaning;
`docs/CONFIGURATION.md` lists them all (a test keeps the two in step).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "BASE_DIR",
    "REGISTRY",
    "Var",
    "declare",
    "get_bool",
    "get_float",
    "get_int",
    "get_list",
    "get_optional",
    "get_str",
]

BASE_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Var:
    name: str
    default: str | None
    doc: str
    secret: bool = False


REGISTRY: dict[str, Var] = {}


def declare(name: str, default: str | None, doc: str, *, secret: bool = False) -> Var:
    var = Var(name=name, default=default, doc=doc, secret=secret)
    REGISTRY[name] = var
    return var


def _raw(var: Var) -> str | None:
    value = os.environ.get(var.name)
    if value is None or value == "":
        return var.default
    return value


def get_str(var: Var) -> str:
    return _raw(var) or ""


def get_optional(var: Var) -> str | None:
    return _raw(var)


def get_bool(var: Var) -> bool:
    value = (_raw(var) or "").strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"{var.name} must be a boolean (true/false), got {value!r}")


def _parse(var: Var, cast: Callable[[str], Any]) -> Any:
    value = _raw(var)
    try:
        return cast(value) if value is not None else None
    except ValueError as exc:
        raise ValueError(f"{var.name} has an invalid value {value!r}: {exc}") from exc


def get_int(var: Var) -> int:
    return _parse(var, int)


def get_float(var: Var) -> float:
    return _parse(var, float)


def get_list(var: Var) -> list[str]:
    return [item.strip() for item in (_raw(var) or "").split(",") if item.strip()]
