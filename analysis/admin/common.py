"""What the analysis admins share: the thumbnail column, the curation actions and the review
page (the change view of an analysis). Everything here parses input, calls one curation
service or selector, and renders."""

from __future__ import annotations

import io
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.timesince import timesince

from analysis.admin.rerun import rerun_options_page
from analysis.admin.review import ReviewPageMixin
from analysis.curation.labels import curated_labels_export
from analysis.curation.selectors import (
    curated_analyses,
    review_threshold,
)
from analysis.curation.services import (
    analyses_approve,
    analyses_reject,
    analysis_rerun,
)
from analysis.depth import AnalysisOptions, options_words
from analysis.models import VisualAnalysis

REVIEW_ACTIONS = ("save", "approve", "reject", "rerun")


def thumbnail_html(analysis: VisualAnalysis, size: int = 64) -> str:
    image = analysis.image
    source = image.thumbnail or image.image
    if not source:
        return "—"
    return format_html(
        '<img src="{}" alt="{}" width="{}" height="{}" loading="lazy" '
        'style="object-fit:cover;border-radius:4px">',
        source.url,
        f"Thumbnail of {image.material.name}",
        size,
        size,
    )


class CurationAdminMixin(ReviewPageMixin):
    """Columns, bulk actions and the review page for any admin of `VisualAnalysis` rows."""

    actions = [
        "approve_selected",
        "reject_selected",
        "rerun_selected",
        "rerun_overwriting_curated",
        "export_curated_labels",
    ]

    # --- columns ------------------------------------------------------------------------
    @admin.display(description="image")
    def thumbnail(self, obj: VisualAnalysis) -> str:
        return thumbnail_html(obj)

    @admin.display(description="material", ordering="image__material__name")
    def material(self, obj: VisualAnalysis) -> str:
        material = obj.image.material
        return f"{material.name} · {material.sku}" if material.sku else material.name

    @admin.display(description="confidence", ordering="confidence")
    def confidence_display(self, obj: VisualAnalysis) -> str:
        if obj.confidence is None:
            return "—"
        low = obj.confidence < review_threshold()
        return format_html(
            '<span style="color:{}">{}</span>', "#b30000" if low else "inherit",
            f"{obj.confidence:.2f}",
        )  # fmt: skip

    @admin.display(description="age", ordering="created_at")
    def age(self, obj: VisualAnalysis) -> str:
        return timesince(obj.created_at).split(",")[0]

    # --- permissions --------------------------------------------------------------------
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # analyses come from the pipeline, one per image

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # rows are corrected, rejected or re-run; never deleted here

    # --- bulk actions -------------------------------------------------------------------
    def _report(self, request: HttpRequest, verb: str, done: int, refused: list[str]) -> None:
        self.message_user(request, f"{verb} {done} analyses.", messages.SUCCESS)
        if refused:
            shown = "; ".join(refused[:5]) + (" …" if len(refused) > 5 else "")
            self.message_user(request, f"{len(refused)} refused: {shown}", messages.WARNING)

    @admin.action(description="Approve selected analyses", permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        outcome = analyses_approve(
            analyses=queryset.select_related("image__material"), actor=request.user
        )
        self._report(request, "Approved", outcome.done, outcome.refused)

    @admin.action(description="Reject selected analyses", permissions=["change"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        outcome = analyses_reject(
            analyses=queryset.select_related("image__material"), actor=request.user
        )
        self._report(request, "Rejected", outcome.done, outcome.refused)

    @admin.action(
        description="Re-run analysis… (queued; curated ones keep their description)",
        permissions=["change"],
    )
    def rerun_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._rerun_with_options(request, queryset, overwrite_curated=False)

    @admin.action(
        description="Re-run analysis…, overwriting curated descriptions", permissions=["change"]
    )
    def rerun_overwriting_curated(
        self, request: HttpRequest, queryset: QuerySet
    ) -> HttpResponse | None:
        return self._rerun_with_options(request, queryset, overwrite_curated=True)

    def _rerun_with_options(self, request, queryset, *, overwrite_curated: bool):
        def queue(rows: list, options: AnalysisOptions) -> None:
            queued = analysis_rerun(
                analyses=rows,
                actor=request.user,
                overwrite_curated=overwrite_curated,
                options=options,
            )
            said = "; curated descriptions will be replaced (kept in the audit trail)"
            self.message_user(
                request,
                f"Queued {queued} analyses ({options_words(options)})"
                + (said if overwrite_curated else "")
                + ".",
                messages.WARNING if overwrite_curated else messages.SUCCESS,
            )

        name = "rerun_overwriting_curated" if overwrite_curated else "rerun_selected"
        return rerun_options_page(
            self,
            request,
            queryset,
            action=name,
            title="Re-run analyses, overwriting curated ones" if overwrite_curated
            else "Re-run analyses",
            overwrite_curated=overwrite_curated,
            queue=queue,
        )  # fmt: skip

    @admin.action(description="Export curated labels of the selected (CSV)", permissions=["view"])
    def export_curated_labels(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        buffer = io.StringIO()
        curated_labels_export(
            out=buffer, analyses=curated_analyses().filter(pk__in=queryset.values("pk"))
        )
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="curated-labels.csv"'
        return response
