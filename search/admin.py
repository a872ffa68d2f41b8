"""Searches and their feedback in the admin (read-only), and the feedback dashboard: the
business figures per day and catalog, with server-rendered charts."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path

from config.read_only_admin import ReadOnlyAdmin
from search.feedback.models import FeedbackEvent, SearchRecord
from search.feedback.report import (
    DEFAULT_DAYS,
    MAX_DAYS,
    FeedbackReportError,
    feedback_report,
)

PERIODS = (1, 7, 30, 90)


@admin.register(FeedbackEvent)
class FeedbackEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "material", "position", "catalog", "voter"]
    list_filter = ["kind", "catalog"]
    list_select_related = ["material", "catalog"]
    search_fields = ["search__query_id", "query_hash"]
    date_hierarchy = "created_at"


@admin.register(SearchRecord)
class SearchRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "query_id", "kind", "surface", "results", "no_good_match"]
    list_filter = ["kind", "surface", "no_good_match", "catalog"]
    search_fields = ["query_id", "query_hash", "text"]
    date_hierarchy = "created_at"

    def get_urls(self):
        view = self.admin_site.admin_view(self.dashboard_view)
        return [
            path("dashboard/", view, name="search_searchrecord_dashboard"),
            *super().get_urls(),
        ]

    def _int(self, request: HttpRequest, name: str, default: int | None) -> int | None:
        raw = request.GET.get(name, "")
        return int(raw) if raw.strip().isdigit() else default

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        days = self._int(request, "days", DEFAULT_DAYS)
        catalog_id = self._int(request, "catalog", None)
        status = 200
        try:
            report = feedback_report(days=days, catalog_id=catalog_id)
        except FeedbackReportError as exc:
            self.message_user(
                request,
                f"{exc}; showing every catalog, {DEFAULT_DAYS} days (days: 1 to {MAX_DAYS}).",
                messages.ERROR,
            )
            report, status = feedback_report(days=DEFAULT_DAYS), 400
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Search feedback",
            "report": report,
            "periods": PERIODS,
        }
        return TemplateResponse(request, "admin/search/feedback.html", context, status=status)
