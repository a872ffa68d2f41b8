"""A material's analysis in the words a designer reads: type, colours with swatches, finish,
pattern, texture — no model ids, scores or scales (those are for staff)."""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.models import AnalysisSource, AnalysisStatus

# Statuses whose description may be shown as what the material looks like.
SHOWN = (AnalysisStatus.COMPLETED, AnalysisStatus.NEEDS_REVIEW, AnalysisStatus.APPROVED)
PATTERN_WORDS = {
    "grain": "a grain",
    "veined": "veins",
    "speckled": "speckles",
    "striped": "stripes",
    "checked": "a check",
    "geometric": "a geometric pattern",
    "woven": "a weave",
    "mottled": "a mottled pattern",
    "floral": "a floral pattern",
    "irregular": "an irregular pattern",
    "solid": "no pattern",
}


@dataclass(frozen=True)
class Colour:
    name: str
    hex: str
    percent: int


@dataclass(frozen=True)
class PlainDescription:
    material: str  # "Oak (wood)"
    colours: list[Colour] = field(default_factory=list)
    finish: str = ""
    pattern: str = ""
    texture: str = ""
    tone: str = ""
    properties: list[str] = field(default_factory=list)
    summary: str = ""
    checked: bool = False  # a curator wrote or approved it


def _tone(lightness: float | None) -> str:
    if lightness is None:
        return ""
    return "light" if lightness >= 66 else "dark" if lightness < 36 else "mid-tone"


def _texture(texture: dict) -> str:
    scale = texture.get("scale") or ""
    direction = texture.get("direction") or "none"
    regular = texture.get("regularity")
    words = [scale] if scale and scale != "medium" else []
    if isinstance(regular, int | float):
        words.append("regular" if regular >= 0.66 else "irregular" if regular < 0.33 else "")
    words = [w for w in words if w]
    text = " and ".join(words).capitalize() + " texture" if words else "Medium texture"
    return text + (f", running {direction}" if direction not in ("none", "") else "")


def plain_description(analysis) -> PlainDescription | None:
    """What the material looks like, or None when nothing trustworthy is known (not analysed
    yet, failed, or a description a curator rejected)."""
    if analysis is None or analysis.status not in SHOWN or not analysis.description:
        return None
    d = analysis.description
    kind = (d.get("material_type") or "").replace("_", " ")
    category = d.get("category") or ""
    material = kind.capitalize() + (f" ({category})" if category and category != kind else "")
    pattern = d.get("pattern") or ""
    finish = d.get("finish") or ""
    return PlainDescription(
        material=material,
        colours=[
            Colour(c.get("name", ""), c.get("hex", ""), round(float(c.get("share", 0)) * 100))
            for c in d.get("colors") or []
        ],
        finish="" if finish == "unknown" else finish.capitalize(),
        pattern="" if pattern == "unknown" else PATTERN_WORDS.get(pattern, pattern).capitalize(),
        texture=_texture(d.get("texture") or {}),
        tone=_tone(d.get("lightness")).capitalize(),
        properties=list(d.get("properties") or []),
        summary=d.get("summary") or "",
        checked=analysis.source == AnalysisSource.CURATED
        or analysis.status == AnalysisStatus.APPROVED,
    )


def image_alt(name: str, plain: PlainDescription | None) -> str:
    """A short human description for an image's `alt`: "Pine planks: light brown wood"."""
    if plain is None:
        return f"Photo of {name}"
    colour = plain.colours[0].name if plain.colours else ""
    kind = plain.material.split(" (")[0].lower()
    words = " ".join(w for w in (plain.tone.lower(), colour, kind) if w)
    return f"{name}: {words}" if words else f"Photo of {name}"
