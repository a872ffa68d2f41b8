"""The review form: the structured description as fields people can edit, built from the
description schema (choices for type, finish, pattern; colour swatches; validated ranges).

It only parses: `description()` returns the raw dict, the curation service validates it
with `description_parse` and its errors come back onto the fields here.
"""

from __future__ import annotations

from typing import Any

from django import forms

from analysis.description import (
    CATEGORY_OF_TYPE,
    DIRECTIONS,
    FINISHES,
    MATERIAL_TYPES,
    PATTERNS,
    TEXTURE_SCALES,
)

MAX_COLORS = 6
DECIMALS = 3
PRECISE = "_precise"  # key of the stored (unrounded) numbers in the form's initial data
HEX_PATTERN = r"^#[0-9a-fA-F]{6}$"


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, value.replace("_", " ")) for value in values]


def _type_choices() -> list[tuple[str, str]]:
    return [(t, f"{t} ({CATEGORY_OF_TYPE[t]})") for t in MATERIAL_TYPES]


class DescriptionForm(forms.Form):
    material_type = forms.ChoiceField(choices=_type_choices)
    finish = forms.ChoiceField(choices=_choices(FINISHES))
    pattern = forms.ChoiceField(choices=_choices(PATTERNS))
    lightness = forms.FloatField(
        label="lightness (L*, 0–100)",
        min_value=0,
        max_value=100,
        help_text="CIE L*, 0 (black) to 100 (white).",
    )
    texture_scale = forms.ChoiceField(label="texture scale", choices=_choices(TEXTURE_SCALES))
    texture_direction = forms.ChoiceField(label="direction", choices=_choices(DIRECTIONS))
    texture_regularity = forms.FloatField(
        label="regularity (0–1)",
        min_value=0,
        max_value=1,
        help_text="0 random … 1 perfectly regular.",
    )
    texture_contrast = forms.FloatField(label="contrast (0–1)", min_value=0, max_value=1)
    texture_description = forms.CharField(label="texture notes", required=False, max_length=300)
    properties = forms.CharField(
        required=False,
        max_length=800,
        help_text="Comma-separated, e.g. “slip resistant, outdoor”. At most 12.",
    )
    summary = forms.CharField(max_length=600, widget=forms.Textarea(attrs={"rows": 3}))
    note = forms.CharField(
        label="note for the audit trail", required=False, max_length=500,
        widget=forms.TextInput(attrs={"size": 60}),
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for index in range(MAX_COLORS):
            self.fields[f"color_{index}_hex"] = forms.RegexField(
                label=f"colour {index + 1}",
                regex=HEX_PATTERN,
                required=False,
                error_messages={"invalid": "a colour is #rrggbb"},
                widget=forms.TextInput(
                    attrs={
                        "type": "color",
                        "class": "swatch-input",
                        "data-index": index,
                        "aria-label": f"colour {index + 1}",
                    }
                ),
            )
            self.fields[f"color_{index}_name"] = forms.CharField(
                label="name", required=False, max_length=40,
                help_text="Blank: named from the colour.",
                widget=forms.TextInput(attrs={"aria-label": f"colour {index + 1} name"}),
            )  # fmt: skip
            self.fields[f"color_{index}_share"] = forms.FloatField(
                label="share", required=False, min_value=0, max_value=1,
                widget=forms.NumberInput(attrs={
                    "step": "0.05", "aria-label": f"colour {index + 1} share of the image (0–1)"
                }),
            )  # fmt: skip
            self.fields[f"color_{index}_use"] = forms.BooleanField(
                label="use", required=False,
                widget=forms.CheckboxInput(attrs={"aria-label": f"use colour {index + 1}"}),
            )  # fmt: skip

    @classmethod
    def initial_from(cls, description: dict[str, Any]) -> dict[str, Any]:
        """Form values for a description. Numbers are shown rounded; `PRECISE` keeps the
        stored values, so a number left as shown is saved exactly as it was."""
        texture = description.get("texture") or {}
        precise: dict[str, Any] = {
            "lightness": description.get("lightness", 50.0),
            "texture_regularity": texture.get("regularity", 0.5),
            "texture_contrast": texture.get("contrast", 0.5),
        }
        initial: dict[str, Any] = {
            "material_type": description.get("material_type", "other"),
            "finish": description.get("finish", "unknown"),
            "pattern": description.get("pattern", "unknown"),
            "texture_scale": texture.get("scale", "medium"),
            "texture_direction": texture.get("direction", "none"),
            "texture_description": texture.get("description", ""),
            "properties": ", ".join(description.get("properties") or []),
            "summary": description.get("summary", ""),
        }
        colors = description.get("colors") or []
        for index in range(MAX_COLORS):
            color = colors[index] if index < len(colors) else {}
            initial[f"color_{index}_use"] = bool(color)
            initial[f"color_{index}_hex"] = color.get("hex", "#808080")
            initial[f"color_{index}_name"] = color.get("name", "")
            precise[f"color_{index}_share"] = color.get("share", 0.0)
        for name, value in precise.items():
            initial[name] = round(float(value), DECIMALS)
        for index, color in enumerate(colors[:MAX_COLORS]):
            if color.get("lab"):
                precise[f"color_{index}_lab"] = color["lab"]
        initial[PRECISE] = precise
        return initial

    def _number(self, name: str) -> float:
        value = self.cleaned_data[name]
        stored = (self.initial.get(PRECISE) or {}).get(name)
        if stored is not None and abs(round(float(stored), DECIMALS) - value) < 1e-9:
            return float(stored)  # untouched: keep the stored value, not its rounding
        return value

    def color_rows(self) -> list[dict[str, forms.BoundField]]:
        return [
            {part: self[f"color_{index}_{part}"] for part in ("use", "hex", "name", "share")}
            for index in range(MAX_COLORS)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        used = [i for i in range(MAX_COLORS) if data.get(f"color_{i}_use")]
        if not used:
            raise forms.ValidationError("Keep at least one colour.")
        for index in used:
            if not data.get(f"color_{index}_hex"):
                self.add_error(f"color_{index}_hex", "a colour is #rrggbb")
            if data.get(f"color_{index}_share") is None:
                self.add_error(f"color_{index}_share", "give this colour's share (0–1)")
        shares = sum(data.get(f"color_{i}_share") or 0 for i in used)
        if shares > 1.05:
            raise forms.ValidationError(f"Colour shares add up to {shares:.2f}; at most 1.")
        properties = [p.strip() for p in (data.get("properties") or "").split(",") if p.strip()]
        if len(properties) > 12:
            self.add_error("properties", "at most 12 properties")
        return data

    def _color_name(self, index: int) -> str:
        # A colour changed without a new name is named afresh: an old name would now lie.
        name = (self.cleaned_data.get(f"color_{index}_name") or "").strip()
        hex_value = self.cleaned_data[f"color_{index}_hex"].lower()
        initial_hex = str(self.initial.get(f"color_{index}_hex", "")).lower()
        initial_name = str(self.initial.get(f"color_{index}_name", ""))
        if name and hex_value != initial_hex and name == initial_name:
            return ""
        return name

    def description(self) -> dict[str, Any]:
        """The raw description the form holds (valid form only); the service validates it."""
        data = self.cleaned_data
        colors = []
        for index in range(MAX_COLORS):
            if not data.get(f"color_{index}_use"):
                continue
            color: dict[str, Any] = {
                "hex": data[f"color_{index}_hex"].lower(),
                "share": self._number(f"color_{index}_share"),
            }
            lab = (self.initial.get(PRECISE) or {}).get(f"color_{index}_lab")
            if lab and color["hex"] == str(self.initial.get(f"color_{index}_hex", "")).lower():
                color["lab"] = lab  # the colour as measured, not as re-derived from its hex
            name = self._color_name(index)
            if name:
                color["name"] = name
            colors.append(color)
        return {
            "material_type": data["material_type"],
            "finish": data["finish"],
            "pattern": data["pattern"],
            "colors": colors,
            "lightness": self._number("lightness"),
            "texture": {
                "scale": data["texture_scale"],
                "direction": data["texture_direction"],
                "regularity": self._number("texture_regularity"),
                "contrast": self._number("texture_contrast"),
                "description": data.get("texture_description") or "",
            },
            "properties": [
                p.strip() for p in (data.get("properties") or "").split(",") if p.strip()
            ],
            "summary": data["summary"],
        }

    def add_service_error(self, *, field: str | None, message: str) -> None:
        """Put a service's validation error on the field it names (else on the form)."""
        target = {
            "material_type": "material_type",
            "finish": "finish",
            "pattern": "pattern",
            "lightness": "lightness",
            "summary": "summary",
            "properties": "properties",
            "texture": "texture_scale",
        }.get((field or "").split(".", 1)[0])
        if field and field.startswith("colors.") and field.split(".")[1].isdigit():
            target = f"color_{field.split('.')[1]}_hex"
        self.add_error(target if target in self.fields else None, message)
