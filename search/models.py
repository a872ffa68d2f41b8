"""Search's read model: one narrow row per searchable material."""

from __future__ import annotations

from django.db import models


class MaterialFacets(models.Model):
    """What a search result shows of a material and what the properties strategy compares,
    in one narrow row per material that has an image: its name, category, catalog name, the
    files of its primary image, and the compared fields of that image's description (none
    when a curator rejected it).

    Written only by database triggers (migration 0002), from the catalog's and the analyses'
    tables, in the same transaction as every write to them — whichever code writes (services,
    the admin, a bulk COPY). Why a copy: a fused search reads these fields for a hundred
    scattered candidates, and in the source tables each takes four lookups, one of them into
    the analyses' wide rows (descriptions and raw model output), which a large catalog does
    not keep in memory; this table is a fraction of their size and stays in it.
    """

    material = models.OneToOneField(
        "materials.Material",
        primary_key=True,
        on_delete=models.DO_NOTHING,  # the triggers delete the row
        db_constraint=False,
        related_name="+",
    )
    name = models.TextField()
    category = models.TextField(blank=True)
    catalog = models.TextField(blank=True)
    thumbnail = models.TextField(blank=True)
    image = models.TextField(blank=True)
    compared = models.JSONField(default=dict)

    class Meta:
        db_table = "search_material_facets"
        verbose_name_plural = "material facets"

    def __str__(self) -> str:
        return self.name


# Feedback on searches (search/feedback/): registered with the app here.
from search.feedback.models import FeedbackEvent, FeedbackKind, SearchRecord  # noqa: E402, F401
