"""The analysis options of the admin's re-run actions: the same `vision`, `clip` and `depth` as
the search API and `import_catalog` / `analyze_catalog` (analysis.depth).

A bulk re-run is Django's intermediate action page: the action shows the options for the
selected analyses, the page posts them back with `apply`, and only then is anything queued.
The review page's "Re-run" button carries the same fields (prefix `rerun`). A field left out
is its default, so a bare post re-runs as before.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from analysis.depth import DEFAULT_DEPTH, AnalysisOptions, analysis_options_parse
from analysis.services import analysis_is_curated

DEPTH_CHOICES = [
    ("basic", "basic — material type and colours (cheapest)"),
    ("detailed", "detailed — the full description"),
    ("comprehensive", "comprehensive — more properties, every confidence, a longer summary"),
]
VISION_CHOICES = [
    ("model", "the vision model"),
    ("offline", "the offline analyser (no model call)"),
]
CLIP_CHOICES = [("clip", "CLIP"), ("offline", "the offline embedders (no CLIP call)")]
SHOWN = 20  # selected materials listed by name on the page


class AnalysisOptionsForm(forms.Form):
    depth = forms.ChoiceField(
        choices=DEPTH_CHOICES, required=False, initial=DEFAULT_DEPTH, widget=forms.RadioSelect
    )
    vision = forms.ChoiceField(
        label="Described by", choices=VISION_CHOICES, required=False, initial="model",
        widget=forms.RadioSelect,
    )  # fmt: skip
    clip = forms.ChoiceField(
        label="Embedded by", choices=CLIP_CHOICES, required=False, initial="clip",
        widget=forms.RadioSelect,
    )  # fmt: skip

    def options(self) -> AnalysisOptions:
        data = self.cleaned_data
        return analysis_options_parse(
            {
                "depth": data.get("depth") or DEFAULT_DEPTH,
                "vision": data.get("vision") != "offline",
                "clip": data.get("clip") != "offline",
            }
        )


def rerun_options_page(
    modeladmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    action: str,
    title: str,
    overwrite_curated: bool | None,
    queue: Callable[[list, AnalysisOptions], None],
) -> TemplateResponse | None:
    """The first post (from the list) shows the options; the second (`apply`) calls
    `queue(rows, options)` and returns None, which sends the curator back to the list.
    `overwrite_curated`: what happens to curated rows (None: the action does not re-describe
    curated ones specially)."""
    rows = list(queryset.select_related("image__material"))
    form = AnalysisOptionsForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        queue(rows, form.options())
        return None
    if not rows:
        modeladmin.message_user(request, "No analyses selected.", messages.WARNING)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": title,
        "form": form,
        "rows": rows[:SHOWN],
        "more": max(0, len(rows) - SHOWN),
        "count": len(rows),
        "pks": [row.pk for row in rows],
        "curated": sum(1 for row in rows if analysis_is_curated(analysis=row)),
        "overwrite_curated": overwrite_curated,
        "action": action,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "back_url": request.get_full_path(),
    }
    return TemplateResponse(request, "admin/analysis/rerun_options.html", context)
