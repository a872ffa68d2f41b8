"""What the analysis admins share: the thumbnail column, the curation actions and the review
page (the change view of an analysis). Everything here parses input, calls one curation
service or selector, and renders."""

from __future__ import annotations

import io
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.timesince import timesince

from analysis.admin.forms import DescriptionForm
from analysis.curation.corrections import analysis_correct
from analysis.curation.diff import description_diff
from analysis.curation.labels import curated_labels_export
from analysis.curation.selectors import (
    analysis_open_flags,
    audit_entries,
    curated_analyses,
    review_queue_next,
    review_queue_position,
    review_threshold,
)
from analysis.curation.services import (
    CurationError,
    analyses_approve,
    analyses_reject,
    analysis_approve,
    analysis_reject,
    analysis_rerun,
)
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


class CurationAdminMixin:
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
        description="Re-run analysis (queued; curated ones keep their description)",
        permissions=["change"],
    )
    def rerun_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        queued = analysis_rerun(analyses=list(queryset), actor=request.user)
        self.message_user(request, f"Queued {queued} analyses.", messages.SUCCESS)

    @admin.action(
        description="Re-run analysis, overwriting curated descriptions", permissions=["change"]
    )
    def rerun_overwriting_curated(self, request: HttpRequest, queryset: QuerySet) -> None:
        queued = analysis_rerun(analyses=list(queryset), actor=request.user, overwrite_curated=True)
        self.message_user(
            request,
            f"Queued {queued} analyses; curated descriptions will be replaced (kept in the "
            "audit trail).",
            messages.WARNING,
        )

    @admin.action(description="Export curated labels of the selected (CSV)", permissions=["view"])
    def export_curated_labels(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        buffer = io.StringIO()
        curated_labels_export(
            out=buffer, analyses=curated_analyses().filter(pk__in=queryset.values("pk"))
        )
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="curated-labels.csv"'
        return response

    # --- the review page ----------------------------------------------------------------
    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        return self.review_view(request, object_id)

    def _queue_url(self, analysis: VisualAnalysis | None) -> str:
        if analysis is None:
            return reverse("admin:analysis_reviewqueueitem_changelist")
        return reverse("admin:analysis_reviewqueueitem_change", args=[analysis.pk])

    def review_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        analysis = self.get_object(request, unquote(object_id))
        if analysis is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, analysis):
            raise PermissionDenied
        can_change = self.has_change_permission(request, analysis)
        current = analysis.description or analysis.model_output or {}
        initial = DescriptionForm.initial_from(current)
        form = DescriptionForm(initial=initial)
        status = 200
        if request.method == "POST":
            if not can_change:
                raise PermissionDenied
            action = request.POST.get("_action", "")
            if action not in REVIEW_ACTIONS:
                self.message_user(request, f"Unknown action {action!r}.", messages.ERROR)
                return HttpResponseRedirect(request.path)
            if action == "save":
                form = DescriptionForm(request.POST, initial=initial)
                response = self._save_correction(request, analysis, form)
            else:
                response = self._act(request, analysis, action)
            if response is not None:
                return response
            status = 400  # the form is shown again with its errors
        return self._render_review(request, analysis, form, can_change, status)

    def _save_correction(
        self, request: HttpRequest, analysis: VisualAnalysis, form: DescriptionForm
    ) -> HttpResponse | None:
        if not form.is_valid():
            return None
        try:
            result = analysis_correct(
                analysis=analysis,
                actor=request.user,
                description=form.description(),
                note=form.cleaned_data.get("note") or "",
            )
        except CurationError as exc:
            form.add_service_error(field=exc.field, message=exc.message)
            return None
        changed = len(result.entry.changes) if result.entry else 0
        self.message_user(
            request,
            f"Saved and approved #{analysis.pk} ({changed} fields changed); its description "
            "embedding is up to date.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(self._queue_url(review_queue_next(after=result.analysis)))

    def _act(self, request: HttpRequest, analysis: VisualAnalysis, action: str) -> HttpResponse:
        note = (request.POST.get("note") or "")[:500]
        try:
            if action == "approve":
                analysis_approve(analysis=analysis, actor=request.user, note=note)
                self.message_user(request, f"Approved #{analysis.pk}.", messages.SUCCESS)
            elif action == "reject":
                analysis_reject(analysis=analysis, actor=request.user, note=note)
                self.message_user(request, f"Rejected #{analysis.pk}.", messages.SUCCESS)
            else:
                queued = analysis_rerun(
                    analyses=[analysis], actor=request.user, overwrite_curated=True
                )
                if not queued:
                    raise CurationError(
                        "busy", f"#{analysis.pk} is {analysis.status} already: nothing queued."
                    )
                self.message_user(
                    request,
                    f"Queued #{analysis.pk} for the vision model; this page shows the new "
                    "analysis once the worker is done.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(request.path)
        except CurationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.path)
        return HttpResponseRedirect(self._queue_url(review_queue_next(after=analysis)))

    def _render_review(
        self,
        request: HttpRequest,
        analysis: VisualAnalysis,
        form: DescriptionForm,
        can_change: bool,
        status: int,
    ) -> HttpResponse:
        position, length = review_queue_position(analysis=analysis)
        following = review_queue_next(after=analysis)
        image = analysis.image
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Review: {image.material.name}",
            "original": analysis,
            "analysis": analysis,
            "material": image.material,
            "image_url": image.image.url if image.image else "",
            "form": form,
            "color_rows": form.color_rows(),
            "diff": description_diff(before=analysis.model_output, after=analysis.description),
            "audit": list(audit_entries(analysis=analysis)[:50]),
            "audit_url": reverse("admin:analysis_analysisauditentry_changelist")
            + f"?analysis__id__exact={analysis.pk}",
            "flags": list(analysis_open_flags(analysis=analysis)),
            "can_change": can_change,
            "queue_position": position,
            "queue_length": length,
            "next_url": self._queue_url(following) if following else "",
            "queue_url": self._queue_url(None),
            "threshold": review_threshold(),
        }
        return TemplateResponse(request, "admin/analysis/review.html", context, status=status)
