"""The curator role: exactly the permissions curation needs, and nothing that deletes or
manages people. Constants only (the group's data migration imports them)."""

from __future__ import annotations

CURATOR_GROUP = "Curators"

# (app label, codename). Curators read the catalog, review and change analyses (through the
# curation services), read the audit trail, flags and the model-call ledger (costs view).
CURATOR_PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("analysis", "view_visualanalysis"),
    ("analysis", "change_visualanalysis"),
    ("analysis", "view_reviewqueueitem"),
    ("analysis", "change_reviewqueueitem"),
    ("analysis", "view_analysisauditentry"),
    ("analysis", "view_analysisflag"),
    ("analysis", "view_modelcall"),
    ("materials", "view_catalog"),
    ("materials", "view_material"),
    ("materials", "view_materialimage"),
)
