"""The review page: the change view of an analysis, as a curator works through the queue.

It parses the posted action, calls one curation service and redirects; every write carries the
version of the row the page showed (optimistic locking: a save over someone else's newer one
is refused). Re-running keeps a curated description unless the curator ticks "replace it".
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from analysis.admin.forms import DescriptionForm
from analysis.admin.rerun import AnalysisOptionsForm
from analysis.curation.corrections import analysis_correct
from analysis.curation.diff import correction_summary, description_diff
from analysis.curation.review import (
    analysis_reject_undo,
    analysis_restore_from_audit,
    queue_reasons,
    restorable_description,
    review_presence_mark,
    type_runner_ups,
)
from analysis.curation.selectors import (
    analysis_open_flags,
    audit_entries,
    review_queue,
    review_queue_next,
    review_threshold,
)
from analysis.curation.services import (
    CurationError,
    analysis_approve,
    analysis_reject,
    analysis_rerun,
    analysis_version,
)
from analysis.depth import analysis_options_parse, options_words
from analysis.models import VisualAnalysis
from analysis.services import analysis_is_curated

REVIEW_ACTIONS = ("save", "approve", "reject", "rerun", "restore", "undo_reject")


def rerun_answerer() -> str:
    """Who answers a re-run: the vision model when one is configured, else the offline one."""
    configured = settings.SWATCH_PROVIDERS.get("VISION", "offline") != "offline"
    return "the vision model" if configured else "the offline analyser"


def queued_options_words(analysis: VisualAnalysis) -> str:
    """The analysis options it was last queued with, as words ("" if the defaults)."""
    queued = analysis.queue_options if isinstance(analysis.queue_options, dict) else {}
    try:
        return options_words(analysis_options_parse(queued.get("analysis")))
    except ValueError:
        return ""


class ReviewPageMixin:
    def change_view(self, request, object_id, form_url="", extra_context=None) -> HttpResponse:
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
        initial = DescriptionForm.initial_from(analysis.description or analysis.model_output or {})
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
            status = 409 if getattr(form, "stale", False) else 400
        return self._render_review(request, analysis, form, can_change, status)

    def _version(self, request: HttpRequest) -> str | None:
        return request.POST.get("version") or None

    def _save_correction(self, request, analysis, form: DescriptionForm) -> HttpResponse | None:
        if not form.is_valid():
            return None
        try:
            result = analysis_correct(
                analysis=analysis,
                actor=request.user,
                description=form.description(),
                note=form.cleaned_data.get("note") or "",
                version=self._version(request),
            )
        except CurationError as exc:
            form.stale = exc.code == "stale"  # someone saved a newer version: 409
            form.add_service_error(field=None if form.stale else exc.field, message=exc.message)
            return None
        self.message_user(
            request,
            f"Saved and approved #{analysis.pk} ({correction_summary(result.entry)}); its "
            "description embedding is up to date.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(self._queue_url(review_queue_next(after=result.analysis)))

    def _act(self, request: HttpRequest, analysis: VisualAnalysis, action: str) -> HttpResponse:
        note = (request.POST.get("note") or "")[:500]
        version = self._version(request)
        stay = HttpResponseRedirect(request.path)
        try:
            if action == "approve":
                analysis_approve(analysis=analysis, actor=request.user, note=note, version=version)
                self.message_user(request, f"Approved #{analysis.pk}.", messages.SUCCESS)
            elif action == "reject":
                analysis_reject(analysis=analysis, actor=request.user, note=note, version=version)
                self.message_user(request, self._undo_message(request, analysis), messages.SUCCESS)
            elif action == "undo_reject":
                analysis_reject_undo(analysis=analysis, actor=request.user)
                self.message_user(request, f"Rejection of #{analysis.pk} undone.", messages.SUCCESS)
                return stay
            elif action == "restore":
                analysis_restore_from_audit(
                    analysis=analysis,
                    entry_id=int(entry) if (entry := request.GET.get("entry", "")).isdigit() else 0,
                    actor=request.user,
                    version=version,
                )
                self.message_user(
                    request,
                    f"Restored the earlier description of #{analysis.pk}.",
                    messages.SUCCESS,
                )
                return stay
            else:
                self._rerun(request, analysis)
                return stay
        except CurationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return stay
        return HttpResponseRedirect(self._queue_url(review_queue_next(after=analysis)))

    def _rerun(self, request: HttpRequest, analysis: VisualAnalysis) -> None:
        curated = analysis_is_curated(analysis=analysis)
        overwrite = curated and request.POST.get("overwrite_curated") == "on"
        form = AnalysisOptionsForm(request.POST, prefix="rerun")
        if not form.is_valid():
            raise CurationError("invalid", f"Re-run options: {form.errors.as_text()}")
        queued = analysis_rerun(
            analyses=[analysis],
            actor=request.user,
            overwrite_curated=overwrite,
            options=form.options(),
        )
        if not queued:
            raise CurationError(
                "busy", f"#{analysis.pk} is {analysis.status} already: nothing queued."
            )
        if curated and not overwrite:
            said = "the curated description is kept (only its embeddings are refreshed)"
        elif overwrite:
            said = "the curated description will be replaced; the audit trail can restore it"
        else:
            said = "this page shows the new analysis once the worker is done"
        answerer = rerun_answerer() if form.options().vision else "the offline analyser"
        self.message_user(
            request,
            f"Queued #{analysis.pk} for {answerer} ({options_words(form.options())}): {said}.",
            messages.SUCCESS,
        )

    def _undo_message(self, request: HttpRequest, analysis: VisualAnalysis) -> str:
        return format_html(
            'Rejected #{}. <form method="post" action="{}" class="undo-form">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<button type="submit" name="_action" value="undo_reject" id="undo-reject">'
            "Undo</button></form>",
            analysis.pk,
            self._queue_url(analysis),
            get_token(request),
        )

    def _neighbours(self, analysis: VisualAnalysis) -> tuple[int | None, int, str, str]:
        ids = list(review_queue().values_list("pk", flat=True))
        position = ids.index(analysis.pk) + 1 if analysis.pk in ids else None
        following = review_queue_next(after=analysis)
        previous = ids[position - 2] if position and position > 1 else None
        return (
            position,
            len(ids),
            self._queue_url(following) if following else "",
            reverse("admin:analysis_reviewqueueitem_change", args=[previous]) if previous else "",
        )

    def _render_review(self, request, analysis, form, can_change: bool, status: int):
        position, length, next_url, previous_url = self._neighbours(analysis)
        image = analysis.image
        audit = list(audit_entries(analysis=analysis)[:50])
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
            "audit": [(entry, bool(restorable_description(entry))) for entry in audit],
            "audit_url": reverse("admin:analysis_analysisauditentry_changelist")
            + f"?analysis__id__exact={analysis.pk}",
            "flags": list(analysis_open_flags(analysis=analysis)),
            "can_change": can_change,
            "queue_position": position,
            "queue_length": length,
            "next_url": next_url,
            "previous_url": previous_url,
            "queue_url": self._queue_url(None),
            "threshold": review_threshold(),
            "version": analysis_version(analysis),
            "others": review_presence_mark(analysis=analysis, user=request.user),
            "reasons": queue_reasons(analysis=analysis),
            "field_confidence": [
                (name.replace("_", " "), value)
                for name, value in ((analysis.description or {}).get("confidence") or {}).items()
            ],
            "runner_ups": type_runner_ups(analysis=analysis),
            "curated": analysis_is_curated(analysis=analysis),
            "answerer": rerun_answerer(),
            "rerun_form": AnalysisOptionsForm(prefix="rerun"),
            "queue_words": queued_options_words(analysis),
        }
        return TemplateResponse(request, "admin/analysis/review.html", context, status=status)
