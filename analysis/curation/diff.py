"""Field-by-field differences between two descriptions (the review diff, the audit trail)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MISSING = None


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


def description_flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """{"texture.scale": "fine", "colors.0.hex": "#aabbcc", …}: one entry per leaf value.

    Lab triples stay whole (three numbers are one colour, not three facts).
    """
    if isinstance(data, dict):
        flat: dict[str, Any] = {}
        for key in sorted(data):
            flat.update(description_flatten(data[key], f"{prefix}{key}."))
        return flat
    if isinstance(data, list) and not _is_lab(prefix, data):
        flat = {}
        for index, item in enumerate(data):
            flat.update(description_flatten(item, f"{prefix}{index}."))
        if not data:
            flat[prefix.rstrip(".")] = []
        return flat
    return {prefix.rstrip("."): data}


def _is_lab(prefix: str, data: list) -> bool:
    return prefix.endswith("lab.") and len(data) == 3


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, int | float) and isinstance(new, int | float):
        return abs(float(old) - float(new)) < 1e-9
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return all(_same(a, b) for a, b in zip(old, new, strict=True))
    return old == new


def description_diff(
    *, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> list[FieldChange]:
    """Every leaf that differs, in field order; a field only one side has counts as changed."""
    old, new = description_flatten(before or {}), description_flatten(after or {})
    changes = []
    for field in sorted(old.keys() | new.keys(), key=_field_order):
        if not _same(old.get(field, MISSING), new.get(field, MISSING)):
            changes.append(FieldChange(field, old.get(field, MISSING), new.get(field, MISSING)))
    return changes


_FIRST = ("material_type", "category", "finish", "pattern", "colors", "lightness", "texture")


def _field_order(field: str) -> tuple[int, str]:
    head = field.split(".", 1)[0]
    rank = _FIRST.index(head) if head in _FIRST else len(_FIRST)
    parts = field.split(".")
    # colors.10 after colors.9
    return rank, ".".join(p.zfill(3) if p.isdigit() else p for p in parts)


# What every save sets (the row's bookkeeping), not what the curator changed.
ROW_FIELDS = frozenset({"status", "source", "confidence"})


def correction_summary(entry: Any) -> str:
    """What a correction changed, as the curator sees it: "material type, pattern changed"
    (top-level fields in name order, the row's bookkeeping left out, the category when it
    only follows the material type)."""
    changes = (entry.changes if entry else None) or {}
    names: list[str] = []
    for key in changes:
        name = key.split(".", 1)[0]
        if name in ROW_FIELDS or (name == "category" and "material_type" in changes):
            continue
        label = {"colors": "colours"}.get(name, name.replace("_", " "))
        if label not in names:
            names.append(label)
    return ", ".join(sorted(names)) + " changed" if names else "nothing in the description changed"
