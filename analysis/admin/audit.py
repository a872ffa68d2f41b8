"""The audit trail (read-only, filterable) and the flags users raise on analyses."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from analysis.models import AnalysisAuditEntry, AnalysisFlag
from config.read_only_admin import ReadOnlyAdmin


def _short(value: Any) -> str:
    text = "—" if value is None else str(value)
    return text if len(text) <= 80 else text[:77] + "…"


@admin.register(AnalysisAuditEntry)
class AnalysisAuditEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "action",
        "actor_name",
        "analysis_link",
        "material_name",
        "changed",
    ]
    list_filter = ["action", "actor_name", "created_at"]
    search_fields = ["material_name", "image_sha256", "actor_name", "note"]
    date_hierarchy = "created_at"
    list_select_related = ["analysis"]
    fields = [
        "created_at",
        "action",
        "actor_name",
        "analysis_link",
        "material_name",
        "image_sha256",
        "note",
        "changes_table",
    ]
    readonly_fields = fields

    @admin.display(description="analysis", ordering="analysis")
    def analysis_link(self, obj: AnalysisAuditEntry) -> str:
        if obj.analysis_id is None:
            return "(deleted)"
        url = reverse("admin:analysis_visualanalysis_change", args=[obj.analysis_id])
        return format_html('<a href="{}">#{}</a>', url, obj.analysis_id)

    @admin.display(description="changed")
    def changed(self, obj: AnalysisAuditEntry) -> str:
        return ", ".join(sorted(obj.changes)) or "—"

    @admin.display(description="changes (old → new)")
    def changes_table(self, obj: AnalysisAuditEntry) -> str:
        if not obj.changes:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (field, _short(old), _short(new))
                for field, (old, new) in sorted(obj.changes.items())
            ),
        )
        return format_html(
            "<table><thead><tr><th>field</th><th>old</th><th>new</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )


@admin.register(AnalysisFlag)
class AnalysisFlagAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "analysis", "reason", "flagged_by", "resolved_at"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["reason", "analysis__image__material__name"]
    list_select_related = ["analysis", "flagged_by"]
