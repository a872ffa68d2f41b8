"""The review queue: analyses that need a person, least confident (or oldest) first."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from analysis.admin.common import CurationAdminMixin
from analysis.curation.selectors import (
    ORDER_LEAST_CONFIDENT,
    QUEUE_ORDERS,
    confidence_band_q,
    confidence_bands,
    review_queue,
    review_threshold,
)
from analysis.curation.services import NOT_REVIEWABLE
from analysis.models import AnalysisStatus, ReviewQueueItem


class ConfidenceBandFilter(admin.SimpleListFilter):
    title = "confidence band"
    parameter_name = "band"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return [(band.key, band.label) for band in confidence_bands()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        for band in confidence_bands():
            if band.key == self.value():
                return queryset.filter(confidence_band_q(band=band))
        return queryset


class QueueStatusFilter(admin.SimpleListFilter):
    """Only the states a queue item can be in (pending and running ones are not in it)."""

    title = "status"
    parameter_name = "status__exact"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return [(s.value, s.label) for s in AnalysisStatus if s not in NOT_REVIEWABLE]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(status=self.value()) if self.value() else queryset


class FlaggedFilter(admin.SimpleListFilter):
    title = "flagged by users"
    parameter_name = "flagged"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return [("yes", "flagged"), ("no", "not flagged")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(has_open_flag=self.value() == "yes")
        return queryset


@admin.register(ReviewQueueItem)
class ReviewQueueAdmin(CurationAdminMixin, admin.ModelAdmin):
    # Fits a 1366 px screen: the model id and source are on the review page.
    list_display = [
        "thumbnail",
        "material",
        "material_type",
        "confidence_display",
        "why",
        "age",
        "status",
        "flagged",
    ]
    list_display_links = ["thumbnail", "material"]
    list_filter = [
        QueueStatusFilter,
        "source",
        "model_id",
        ConfidenceBandFilter,
        FlaggedFilter,
        ("image__catalog", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["image__material__name", "image__material__sku"]
    search_help_text = "Material name or SKU."
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Not super(): its ordering would name the annotations before they exist.
        return review_queue(queryset=self.model._default_manager.get_queryset())

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        # An item that has just left the queue (approved, rejected) can still be opened.
        try:
            return self.model._default_manager.select_related(
                "image__material", "image__catalog"
            ).get(pk=object_id)
        except (self.model.DoesNotExist, ValueError, ValidationError):
            return None

    def get_ordering(self, request: HttpRequest) -> list[str]:
        return list(QUEUE_ORDERS[ORDER_LEAST_CONFIDENT])

    @admin.display(description="why queued")
    def why(self, obj: ReviewQueueItem) -> str:
        if getattr(obj, "has_open_flag", False):
            return "flagged by a user"
        if obj.status == AnalysisStatus.FAILED:
            return "failed"
        if obj.confidence is not None and obj.confidence < review_threshold():
            return "low confidence"
        return "review asked" if obj.status == AnalysisStatus.NEEDS_REVIEW else "—"

    @admin.display(description="flagged", boolean=True, ordering="has_open_flag")
    def flagged(self, obj: ReviewQueueItem) -> bool:
        return bool(getattr(obj, "has_open_flag", False))

    @admin.display(description="confidence", ordering="queue_confidence")
    def confidence_display(self, obj: ReviewQueueItem) -> str:
        return super().confidence_display(obj)
