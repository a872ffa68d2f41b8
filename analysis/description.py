"""The structured material description: the one schema every analyser's output must pass.

Model output is untrusted. `description_parse` first repairs what can be repaired without
guessing (case, common synonyms, a missing hex or Lab value derived from the other, values a
hair outside their range), then validates; anything still wrong raises `DescriptionInvalid`
with the reasons, and nothing partial is ever returned.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from analysis.colors import color_name, hex_to_rgb, lab_to_srgb, rgb_to_hex, srgb_to_lab

SCHEMA_VERSION = "1"

MATERIAL_TYPES = (
    "wood", "bark", "stone", "marble", "granite", "terrazzo", "concrete", "brick", "tile",
    "ceramic", "metal", "glass", "fabric", "carpet", "leather", "laminate", "plastic", "cork",
    "grass", "paper", "other",
)  # fmt: skip
CATEGORY_OF_TYPE = {
    "wood": "wood", "bark": "natural", "cork": "natural", "grass": "natural",
    "stone": "stone", "marble": "stone", "granite": "stone", "terrazzo": "stone",
    "concrete": "masonry", "brick": "masonry",
    "tile": "ceramic", "ceramic": "ceramic",
    "metal": "metal", "glass": "glass",
    "fabric": "textile", "carpet": "textile", "leather": "textile",
    "laminate": "synthetic", "plastic": "synthetic", "paper": "synthetic",
    "other": "other",
}  # fmt: skip
CATEGORIES = tuple(sorted(set(CATEGORY_OF_TYPE.values())))
FINISHES = (
    "matte", "satin", "polished", "glossy", "honed", "brushed", "textured", "natural", "unknown",
)  # fmt: skip
PATTERNS = (
    "solid", "grain", "veined", "speckled", "striped", "checked", "geometric", "woven",
    "mottled", "floral", "irregular", "unknown",
)  # fmt: skip
DIRECTIONS = ("none", "horizontal", "vertical", "diagonal", "radial")
TEXTURE_SCALES = ("smooth", "fine", "medium", "coarse")

SYNONYMS = {
    "material_type": {
        "timber": "wood", "hardwood": "wood", "oak": "wood", "walnut": "wood", "veneer": "wood",
        "slate": "stone", "limestone": "stone", "sandstone": "stone", "travertine": "stone",
        "quartzite": "stone", "rock": "stone", "cement": "concrete", "masonry": "brick",
        "porcelain": "ceramic", "mosaic": "tile", "steel": "metal", "aluminium": "metal",
        "aluminum": "metal", "copper": "metal", "brass": "metal", "iron": "metal",
        "textile": "fabric", "linen": "fabric", "cotton": "fabric", "wool": "fabric",
        "velvet": "fabric", "jute": "fabric", "burlap": "fabric", "rug": "carpet",
        "vinyl": "plastic", "lawn": "grass", "turf": "grass", "quartz": "stone",
    },
    "finish": {
        "matt": "matte", "flat": "matte", "gloss": "glossy", "high gloss": "glossy",
        "shiny": "glossy", "lacquered": "glossy", "semi-gloss": "satin", "eggshell": "satin",
        "rough": "textured", "raw": "natural", "unfinished": "natural", "oiled": "natural",
        "sandblasted": "textured", "leathered": "textured",
    },
    "pattern": {
        "plain": "solid", "uniform": "solid", "none": "solid", "wood grain": "grain",
        "grained": "grain", "veining": "veined", "marbled": "veined", "speckle": "speckled",
        "flecked": "speckled", "stripes": "striped", "striped lines": "striped",
        "checkered": "checked", "chequered": "checked", "herringbone": "geometric",
        "chevron": "geometric", "hexagonal": "geometric", "brick bond": "geometric",
        "weave": "woven", "knit": "woven", "cloudy": "mottled", "blotchy": "mottled",
        "random": "irregular", "organic": "irregular",
    },
}  # fmt: skip


class DescriptionInvalid(Exception):
    """Output that is not a valid material description, with every reason found."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


Unit = float


class Color(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=40)
    hex: str = Field(pattern=r"^#[0-9a-f]{6}$")
    lab: tuple[float, float, float]
    share: float = Field(ge=0.0, le=1.0)

    @field_validator("lab")
    @classmethod
    def _lab_in_range(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        lightness, a, b = value
        if not (0 <= lightness <= 100 and -128 <= a <= 128 and -128 <= b <= 128):
            raise ValueError("Lab values out of range (L 0..100, a/b -128..128)")
        return value


class Texture(BaseModel):
    model_config = ConfigDict(extra="ignore")

    scale: Literal[TEXTURE_SCALES] = "medium"  # type: ignore[valid-type]
    regularity: float = Field(ge=0.0, le=1.0)
    direction: Literal[DIRECTIONS] = "none"  # type: ignore[valid-type]
    contrast: float = Field(ge=0.0, le=1.0)
    description: str = Field(default="", max_length=300)


class Confidence(BaseModel):
    model_config = ConfigDict(extra="ignore")

    overall: float = Field(ge=0.0, le=1.0)
    material_type: float = Field(ge=0.0, le=1.0)
    colors: float = Field(default=0.5, ge=0.0, le=1.0)
    texture: float = Field(default=0.5, ge=0.0, le=1.0)
    finish: float = Field(default=0.5, ge=0.0, le=1.0)
    pattern: float = Field(default=0.5, ge=0.0, le=1.0)


class MaterialDescription(BaseModel):
    model_config = ConfigDict(extra="ignore")

    material_type: Literal[MATERIAL_TYPES]  # type: ignore[valid-type]
    category: Literal[CATEGORIES]  # type: ignore[valid-type]
    colors: list[Color] = Field(min_length=1, max_length=6)
    lightness: float = Field(ge=0.0, le=100.0)
    texture: Texture
    finish: Literal[FINISHES]  # type: ignore[valid-type]
    pattern: Literal[PATTERNS]  # type: ignore[valid-type]
    properties: list[str] = Field(default_factory=list, max_length=12)
    confidence: Confidence
    summary: str = Field(min_length=1, max_length=600)

    def as_text(self) -> str:
        """The description as one sentence of text, for text embeddings and full-text search."""
        colours = ", ".join(c.name for c in self.colors)
        parts = [
            f"{self.material_type} ({self.category})",
            f"colours: {colours}",
            f"{self.finish} finish",
            f"{self.pattern} pattern",
            f"{self.texture.scale} texture",
        ]
        if self.texture.direction != "none":
            parts.append(f"{self.texture.direction} direction")
        if self.properties:
            parts.append(", ".join(self.properties))
        return ". ".join(parts) + ". " + self.summary


def _clamp_unit(value: Any) -> Any:
    # Models say 1.0000001 or -0.0 and 0–100 percentages; anything farther off is left to fail.
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1.0 < value <= 100.0 and float(value) != 1.0:
            return value / 100.0 if value > 1.01 else 1.0
        if -0.01 <= value < 0.0:
            return 0.0
    return value


def _canonical(field: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip().lower().replace("_", " ")
    table = SYNONYMS.get(field, {})
    text = table.get(text, text)
    return text.replace(" ", "_") if field != "material_type" else text


def _repair_color(raw: Any) -> Any:
    if isinstance(raw, str):
        raw = {"hex": raw} if raw.strip().startswith("#") else {"name": raw}
    if not isinstance(raw, dict):
        return raw
    color = dict(raw)
    if isinstance(color.get("hex"), str):
        try:
            color["hex"] = rgb_to_hex(hex_to_rgb(color["hex"]))
        except ValueError:
            pass
    if "lab" not in color and isinstance(color.get("hex"), str):
        try:
            color["lab"] = [
                round(float(v), 2) for v in srgb_to_lab(np.array(hex_to_rgb(color["hex"])))
            ]
        except ValueError:
            pass
    if "hex" not in color and isinstance(color.get("lab"), list | tuple) and len(color["lab"]) == 3:
        color["hex"] = rgb_to_hex(lab_to_srgb(np.array(color["lab"], dtype=float)))
    if not color.get("name") and isinstance(color.get("lab"), list | tuple):
        color["name"] = color_name(tuple(float(v) for v in color["lab"]))
    if isinstance(color.get("name"), str):
        color["name"] = color["name"].strip().lower()
    color["share"] = _clamp_unit(color.get("share", 0.0))
    return color


def description_repair(raw: dict[str, Any]) -> dict[str, Any]:
    """Mend what can be mended without guessing; never invents a field that is missing."""
    data = dict(raw)
    for field in ("material_type", "finish", "pattern", "category"):
        data[field] = _canonical(field, data.get(field))
    if data.get("material_type") in CATEGORY_OF_TYPE and not data.get("category"):
        data["category"] = CATEGORY_OF_TYPE[data["material_type"]]
    colors = data.get("colors", data.get("colours"))
    if isinstance(colors, list):
        data["colors"] = [_repair_color(c) for c in colors]
    if "lightness" not in data and isinstance(data.get("colors"), list):
        labs = [c.get("lab") for c in data["colors"] if isinstance(c, dict)]
        shares = [float(c.get("share") or 0) for c in data["colors"] if isinstance(c, dict)]
        if labs and all(isinstance(lab, list | tuple) and len(lab) == 3 for lab in labs):
            total = sum(shares) or len(labs)
            weights = shares if sum(shares) else [1.0] * len(labs)
            data["lightness"] = (
                sum(w * float(lab[0]) for w, lab in zip(weights, labs, strict=True)) / total
            )
    texture = data.get("texture")
    if isinstance(texture, dict):
        texture = dict(texture)
        for key in ("regularity", "contrast"):
            texture[key] = _clamp_unit(texture.get(key))
        for key in ("scale", "direction"):
            if isinstance(texture.get(key), str):
                texture[key] = texture[key].strip().lower()
        data["texture"] = texture
    confidence = data.get("confidence")
    if isinstance(confidence, int | float):
        confidence = {"overall": confidence, "material_type": confidence}
    if isinstance(confidence, dict):
        data["confidence"] = {k: _clamp_unit(v) for k, v in confidence.items()}
    if isinstance(data.get("properties"), list):
        data["properties"] = [str(p).strip().lower()[:60] for p in data["properties"] if p][:12]
    return data


def description_parse(raw: Any) -> MaterialDescription:
    """Repair, then validate. Raises `DescriptionInvalid` with every reason found."""
    if not isinstance(raw, dict):
        raise DescriptionInvalid([f"expected a JSON object, got {type(raw).__name__}"])
    try:
        return MaterialDescription.model_validate(description_repair(raw))
    except ValidationError as exc:
        reasons = [
            f"{'.'.join(str(p) for p in err['loc']) or 'description'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise DescriptionInvalid(reasons) from exc


def description_json_schema() -> dict[str, Any]:
    """JSON Schema of the description (for prompts and for the API schema)."""
    return MaterialDescription.model_json_schema()
