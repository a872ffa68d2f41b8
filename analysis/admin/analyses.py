"""All analyses (with the pipeline's dead-letter list of failed ones) and the embeddings.

The dead-letter view and "Queue the analysis again" come from the ingestion pipeline; the
change page of an analysis is the curation review page (`CurationAdminMixin`).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path

from analysis.admin.common import CurationAdminMixin
from analysis.admin.rerun import rerun_options_page
from analysis.depth import AnalysisOptions, options_words
from analysis.models import Embedding, VisualAnalysis
from analysis.selectors import analysis_failed_list
from analysis.services import analysis_queue_for_images


@admin.register(VisualAnalysis)
class VisualAnalysisAdmin(CurationAdminMixin, admin.ModelAdmin):
    list_display = [
        "pk",
        "thumbnail",
        "material",
        "status",
        "source",
        "material_type",
        "confidence_display",
        "model_id",
        "attempts",
        "error_reason",
        "updated_at",
    ]
    list_display_links = ["pk", "thumbnail", "material"]
    list_filter = ["status", "source", "material_type", "model_id", "image__catalog"]
    search_fields = [
        "image__material__name",
        "image__material__sku",
        "image__sha256",
        "error_reason",
    ]
    list_select_related = ["image__material"]
    actions = [*CurationAdminMixin.actions, "queue_again"]

    def get_urls(self):
        view = self.admin_site.admin_view(self.dead_letters_view)
        return [
            path("failed/", view, name="analysis_visualanalysis_failed"),
            *super().get_urls(),
        ]

    def dead_letters_view(self, request: HttpRequest) -> HttpResponse:
        # admin_view only checks is_staff: the model's own view permission, as its list has.
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "rows": list(analysis_failed_list()),
        }
        return TemplateResponse(request, "admin/analysis/dead_letters.html", context)

    @admin.action(description="Queue the analysis again…", permissions=["change"])
    def queue_again(
        self, request: HttpRequest, queryset: QuerySet[VisualAnalysis]
    ) -> HttpResponse | None:
        def queue(rows: list, options: AnalysisOptions) -> None:
            queued = analysis_queue_for_images(
                image_ids=[row.image_id for row in rows], analysis=options.as_dict()
            )
            self.message_user(
                request, f"queued {queued} analyses ({options_words(options)})", messages.SUCCESS
            )

        return rerun_options_page(
            self,
            request,
            queryset,
            action="queue_again",
            title="Queue analyses again",
            overwrite_curated=None,
            queue=queue,
        )


@admin.register(Embedding)
class EmbeddingAdmin(admin.ModelAdmin):
    list_display = ["pk", "image", "kind", "model", "dimensions", "created_at"]
    list_filter = ["kind", "model"]
    search_fields = ["image__sha256", "image__material__name"]
    exclude = ["vector"]
    readonly_fields = ["image", "kind", "model", "dimensions", "source_sha256", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
