"""The registry of embedding models: what may be stored and searched, as data.

One row per model (name, kind, dimensions, the provider that makes it). Its partial HNSW index
is built by `manage.py build_embedding_index` (`CREATE INDEX CONCURRENTLY`, no write lock),
its vectors by `reembed_catalog`; `activate_embedding_model` makes it the one search and the
pipeline use for its kind — one row per kind is active, switched in one transaction, so every
process moves at the same commit. With no active row for a kind, the configured provider
chain (`SWATCH_IMAGE_EMBEDDER` / `SWATCH_TEXT_EMBEDDER`) answers, as before the registry.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

# Model names go into SQL as literals (a partial index is used only when a query repeats its
# predicate verbatim), so they are held to a safe alphabet (as `search.strategies.sql`).
MODEL_NAME_PATTERN = r"^[A-Za-z0-9._/-]{1,100}$"
KINDS = (("image", "Image"), ("description", "Description text"))


class EmbeddingModel(models.Model):
    # One name may serve two kinds (CLIP embeds images and texts into one space).
    name = models.CharField(max_length=100, validators=[RegexValidator(MODEL_NAME_PATTERN)])
    kind = models.CharField(max_length=20, choices=KINDS)
    dimensions = models.PositiveIntegerField()
    # Dotted path of the embedder class (built with `options`); "" = the configured chain.
    provider = models.CharField(max_length=200, blank=True)
    options = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=False)
    # While active with partial coverage: the model that answers the items not covered yet.
    fallback = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    index_built_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "kind"], name="embedding_model_name_kind"),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(active=True), name="embedding_model_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}, {self.dimensions}-d{', active' if self.active else ''})"
