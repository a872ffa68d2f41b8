"""The search form: parses the request into the service's values; the service decides."""

from __future__ import annotations

from django import forms

from search.pages.selectors import Facets

MIN_CONFIDENCE_CHOICES = [("", "Any"), ("0.5", "50 %"), ("0.7", "70 %"), ("0.9", "90 %")]


class SearchForm(forms.Form):
    image = forms.FileField(
        required=False,
        label="Image",
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
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
    catalog = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Catalog")
    material_type = forms.ChoiceField(required=False, label="Material")
    color = forms.ChoiceField(required=False, label="Colour")
    finish = forms.ChoiceField(required=False, label="Finish")
    min_confidence = forms.TypedChoiceField(
        required=False,
        choices=MIN_CONFIDENCE_CHOICES,
        coerce=float,
        empty_value=None,
        label="Minimum confidence",
    )

    def __init__(self, *args, facets: Facets, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        anything = [("", "Any")]
        self.fields["catalog"].choices = anything + [(str(i), n) for i, n in facets.catalogs]
        self.fields["material_type"].choices = anything + [
            (t, t.capitalize()) for t in facets.material_types
        ]
        self.fields["color"].choices = anything + [(n, n.capitalize()) for n, _ in facets.colors]
        self.fields["finish"].choices = anything + [(f, f.capitalize()) for f in facets.finishes]
        self.color_hex = dict(facets.colors)

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
