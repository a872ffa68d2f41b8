"""Searches as recorded for feedback, and the feedback on their results.

A search is kept as its query id, a hash of the query and what can be replayed without the
image (its text, the material of a "more like this", its filters); the query image itself is
never stored, only its part of the hash.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class SearchRecord(models.Model):
    query_id = models.CharField(max_length=32, unique=True)
    query_hash = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(max_length=40)  # image, text, material, image+text…
    surface = models.CharField(max_length=10)  # api, page
    text = models.CharField(max_length=1000, blank=True)
    material = models.ForeignKey(
        "materials.Material", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filters = models.JSONField(default=dict, blank=True)
    # The catalog the search was limited to, else the catalog of its first result.
    catalog = models.ForeignKey(
        "materials.Catalog", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result_ids = models.JSONField(default=list, blank=True)  # material ids, best first
    results = models.PositiveIntegerField(default=0)  # results kept (all pages)
    no_good_match = models.BooleanField(default=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "search_record"
        indexes = [models.Index(fields=["catalog", "created_at"])]

    def __str__(self) -> str:
        return f"search {self.query_id} ({self.kind})"


class FeedbackKind(models.TextChoices):
    GOOD = "good", "Good match"
    BAD = "bad", "Not what I meant"
    CLICK = "click", "Result clicked"
    SAMPLE_REQUESTED = "sample_requested", "Sample requested"
    SAVED = "saved", "Saved"


VOTES = (FeedbackKind.GOOD, FeedbackKind.BAD)
CONVERSIONS = (FeedbackKind.SAMPLE_REQUESTED, FeedbackKind.SAVED)


class FeedbackEvent(models.Model):
    search = models.ForeignKey(SearchRecord, on_delete=models.CASCADE, related_name="events")
    query_hash = models.CharField(max_length=64, db_index=True)
    material = models.ForeignKey("materials.Material", on_delete=models.CASCADE, related_name="+")
    catalog = models.ForeignKey("materials.Catalog", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=FeedbackKind.choices)
    position = models.PositiveIntegerField(null=True, blank=True)  # 1-based rank shown
    # Who: `user:<id>`, `session:<key>`, `ip:<address>` or a catalog site's key.
    voter = models.CharField(max_length=120)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "search_feedback_event"
        constraints = [
            models.UniqueConstraint(
                fields=["search", "material", "voter"],
                condition=Q(kind__in=["good", "bad"]),
                name="feedback_one_vote_per_voter_and_result",
            )
        ]
        indexes = [models.Index(fields=["kind", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} on material {self.material_id} for {self.search_id}"
