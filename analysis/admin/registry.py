"""The embedding-model registry in the admin: each model, whether it serves, its index, and
its coverage per catalog (covered / total), which is the progress of a `reembed_catalog`.

Read-only: the switch and the drop are commands (`activate_embedding_model`,
`drop_embedding_model`), whose gates an admin form would skip."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html_join

from analysis.models import EmbeddingModel
from analysis.registry.indexes import index_state, model_index
from analysis.registry.selectors import coverage, coverage_total
from config.read_only_admin import ReadOnlyAdmin


@admin.register(EmbeddingModel)
class EmbeddingModelAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "dimensions", "active", "index", "covered", "provider"]
    list_filter = ["kind", "active"]
    readonly_fields = [
        "name",
        "kind",
        "dimensions",
        "provider",
        "options",
        "active",
        "fallback",
        "index",
        "activated_at",
        "index_built_at",
        "coverage_per_catalog",
    ]
    fields = readonly_fields

    @admin.display(description="index")
    def index(self, obj: EmbeddingModel) -> str:
        return f"{model_index(obj).name} ({index_state(model_index(obj))})"

    @admin.display(description="covered / total")
    def covered(self, obj: EmbeddingModel) -> str:
        covered, total = coverage_total(coverage(model=obj))
        return f"{covered} / {total}"

    @admin.display(description="coverage per catalog")
    def coverage_per_catalog(self, obj: EmbeddingModel) -> str:
        rows = coverage(model=obj)
        if not rows:
            return "no catalog"
        return format_html_join(
            "", "<div>{}: {} / {}</div>", ((r.catalog, r.covered, r.total) for r in rows)
        )
