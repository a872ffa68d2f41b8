"""The model-call ledger in the admin: the raw calls, and the costs page (per day and model)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path

from analysis.curation.budget_view import limits_and_budgets, spend_chart
from analysis.curation.costs import DEFAULT_DAYS, MAX_DAYS, CostReportError, cost_report
from analysis.curation.resources import (
    database_size_bytes,
    storage_per_catalog,
    worker_time_per_task,
)
from analysis.models import ModelCall
from config.read_only_admin import ReadOnlyAdmin

PERIODS = (1, 7, 30, 90)


@admin.register(ModelCall)
class ModelCallAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "provider",
        "model",
        "purpose",
        "outcome",
        "latency_ms",
        "items",
        "prompt_tokens",
        "completion_tokens",
        "cost_usd",
    ]
    list_filter = ["outcome", "purpose", "provider", "model"]
    search_fields = ["model", "error_code", "image_sha256"]
    date_hierarchy = "started_at"

    def get_urls(self):
        costs = self.admin_site.admin_view(self.costs_view)
        return [path("costs/", costs, name="analysis_modelcall_costs"), *super().get_urls()]

    def costs_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        raw = request.GET.get("days", str(DEFAULT_DAYS))
        status = 200
        try:
            report = cost_report(days=int(raw))
        except (ValueError, CostReportError):
            self.message_user(
                request,
                f"“days” must be a whole number from 1 to {MAX_DAYS}, not {raw!r}; "
                f"showing {DEFAULT_DAYS}.",
                messages.ERROR,
            )
            report = cost_report(days=DEFAULT_DAYS)
            status = 400
        limits = limits_and_budgets()
        for budget in limits["budgets"]:
            if budget["state"] != "ok":  # the admin notice of a budget at 80 % or spent
                level = messages.ERROR if budget["state"] == "stopped" else messages.WARNING
                self.message_user(
                    request,
                    f"The {budget['period']}'s model budget is at {100 * budget['share']:.0f} % "
                    f"(${budget['spent_usd']:.2f} of ${budget['limit_usd']:.2f})"
                    + ("; model calls are stopped, the offline providers answer until "
                       f"{budget['resets_at'][:16]} UTC." if budget["state"] == "stopped" else "."),
                    level,
                )  # fmt: skip
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Model costs",
            "report": report,
            "periods": PERIODS,
            "limits": limits,
            "chart": spend_chart(report.per_day, since=report.since, days=report.days),
            "resources": {
                "storage": storage_per_catalog(),
                "database_bytes": database_size_bytes(),
                "worker_time": worker_time_per_task(since=report.since, until=report.until),
            },
        }
        return TemplateResponse(request, "admin/analysis/costs.html", context, status=status)
