"""The search form: parses the request into the service's values; the service decides."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.conf import settings

from search.browse import BROWSE_SORTS, DEFAULT_SORT
from search.crop import CROP_KEYS
from search.pages.selectors import FacetOption, Facets

MIN_CONFIDENCE_CHOICES = [("", "Any"), ("0.5", "50 %"), ("0.7", "70 %"), ("0.9", "90 %")]
SORT_CHOICES = [(key, label) for key, (label, _) in BROWSE_SORTS.items()]
# What a search's address holds (GET): the text, the material, the filters, the order.
URL_FIELDS = ("text", "like", "catalog", "material_type", "color", "finish", "min_confidence")
FILTER_FIELDS = ("catalog", "material_type", "color", "finish", "min_confidence")


def _counted(options: list[FacetOption], selected: str) -> list[tuple[str, str]]:
    # "Marble (3)": how many materials the other filters and this value keep.
    return [
        (o.value, o.label if o.count is None or o.value == selected else f"{o.label} ({o.count})")
        for o in options
    ]


class SearchForm(forms.Form):
    image = forms.FileField(
        required=False,
        label="Image",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    camera = forms.FileField(
        required=False,
        label="Take a photo",
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    text = forms.CharField(
        required=False,
        max_length=500,
        label="Describe it",
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. light oak, matte", "autocomplete": "off"}
        ),
    )
    like = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    # The previous search's image, inline in the page (never stored by the server).
    image_data = forms.CharField(required=False, widget=forms.HiddenInput)
    image_token = forms.CharField(required=False, widget=forms.HiddenInput)
    # The part of the image to search, from the page's box selection: "x,y,width,height" as
    # fractions of the image (the service checks the values and cuts the image).
    crop = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    catalog = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Catalog")
    material_type = forms.ChoiceField(required=False, label="Material")
    color = forms.ChoiceField(required=False, label="Colour", widget=forms.RadioSelect)
    finish = forms.ChoiceField(required=False, label="Finish")
    min_confidence = forms.TypedChoiceField(
        required=False,
        choices=MIN_CONFIDENCE_CHOICES,
        coerce=float,
        empty_value=None,
        label="Described with at least",
    )
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, label="Sort by")
    # The "Advanced" part: how much image analysis a search pays for (analysis.depth).
    depth = forms.ChoiceField(
        required=False,
        choices=[("", "Detailed (default)"), ("basic", "Basic: type and colours"),
                 ("comprehensive", "Comprehensive: more properties, longer summary")],
        label="Image analysis",
    )  # fmt: skip
    no_vision = forms.BooleanField(required=False, label="Skip the vision model (no refinement)")
    no_clip = forms.BooleanField(required=False, label="Use the offline embedder, not CLIP")

    def analysis(self) -> dict:
        data = self.cleaned_data
        return {
            "vision": not data.get("no_vision"),
            "clip": not data.get("no_clip"),
            "depth": data.get("depth") or "detailed",
        }

    def __init__(self, *args, facets: Facets, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.use_facets(facets)

    def clean_crop(self) -> dict | None:
        value = (self.cleaned_data.get("crop") or "").strip()
        if not value:
            return None
        try:
            numbers = [float(part) for part in value.split(",")]
        except ValueError:
            numbers = []
        if len(numbers) != len(CROP_KEYS):
            raise forms.ValidationError("The selected part could not be read; select it again.")
        return dict(zip(CROP_KEYS, numbers, strict=True))

    def use_facets(self, facets: Facets) -> None:
        """The filters' choices: the catalog's values, labelled with their counts if known."""
        data = self.data if self.is_bound else {}
        anything = [("", "Any")]
        self.fields["catalog"].choices = anything + _counted(
            facets.catalogs, str(data.get("catalog", ""))
        )
        self.fields["material_type"].choices = anything + _counted(
            facets.material_types, data.get("material_type", "")
        )
        self.fields["color"].choices = anything + [(o.value, o.label) for o in facets.colors]
        self.fields["finish"].choices = anything + _counted(facets.finishes, data.get("finish", ""))
        self.color_options = facets.colors

    def filters(self) -> dict:
        """The service's `filters` object from the sidebar (only what was chosen)."""
        data = self.cleaned_data
        filters: dict = {}
        if data.get("catalog") is not None:
            filters["catalog"] = data["catalog"]
        if data.get("material_type"):
            filters["material_type"] = data["material_type"]
        if data.get("color"):
            filters["colors"] = [data["color"]]
        if data.get("finish"):
            filters["finish"] = data["finish"]
        if data.get("min_confidence") is not None:
            filters["min_confidence"] = data["min_confidence"]
        return filters

    @property
    def has_filters(self) -> bool:
        return bool(self.is_bound and self.is_valid() and self.filters())

    @property
    def sort_value(self) -> str:
        return (self.cleaned_data.get("sort") if self.is_bound else "") or DEFAULT_SORT

    def url_params(self, *, without: str = "", **extra) -> dict[str, str]:
        """The search's address (GET parameters) from the valid form; `without` a filter
        (an active-filter chip's link) or "filters" (clear all)."""
        params = {}
        for name in (*URL_FIELDS, "sort"):
            if name == without or (without == "filters" and name in FILTER_FIELDS):
                continue
            value = self.data.get(name, "") if self.is_bound else ""
            if value not in ("", None) and not (name == "sort" and value == DEFAULT_SORT):
                params[name] = str(value)
        params.update({k: str(v) for k, v in extra.items() if v not in ("", None)})
        return params

    def url(self, *, without: str = "", **extra) -> str:
        params = self.url_params(without=without, **extra)
        return "/?" + urlencode(params) if params else "/"

    def active_filters(self) -> list[dict[str, str]]:
        """The chosen filters as chips: what is set, and the address without it."""
        chips = []
        for name in FILTER_FIELDS:
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            shown = dict(self.fields[name].choices).get(
                str(value) if name != "min_confidence" else str(value), str(value)
            )
            if name == "min_confidence":
                shown = f"{round(value * 100)} %"
            chips.append(
                {
                    "field": name,
                    "label": self.fields[name].label,
                    "value": str(shown),
                    "url": self.url(without=name),
                }
            )
        return chips


def upload_limits() -> dict:
    """The upload limits the page states (and its script checks before sending)."""
    conf = settings.SWATCH
    return {
        "max_upload_mb": conf["MAX_UPLOAD_BYTES"] // (1024 * 1024),
        "max_upload_bytes": conf["MAX_UPLOAD_BYTES"],
        "max_megapixels": conf["MAX_IMAGE_PIXELS"] // 1_000_000,
        "max_pixels": conf["MAX_IMAGE_PIXELS"],
    }
