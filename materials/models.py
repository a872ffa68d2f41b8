"""The catalog: catalogs hold materials, materials have images."""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q


class Catalog(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Material(models.Model):
    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="materials")
    name = models.CharField(max_length=300)
    sku = models.CharField(max_length=100, blank=True, null=True)
    # The supplier's own classification (wood, stone, tile…), not the model's guess.
    category = models.CharField(max_length=100, blank=True, db_index=True)
    supplier = models.CharField(max_length=200, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["catalog", "sku"], name="material_unique_sku_per_catalog"
            ),
        ]
        indexes = [
            models.Index(fields=["catalog", "category"]),
            # Attribute filters are containment (`attributes @> {...}`): in a large catalog a
            # filter that keeps few materials finds them here instead of reading every row.
            GinIndex(
                fields=["attributes"], opclasses=["jsonb_path_ops"], name="material_attributes_gin"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def primary_image(self) -> MaterialImage | None:
        images = list(self.images.all())
        for image in images:
            if image.is_primary:
                return image
        return images[0] if images else None


# "The primary image, else the first": the one order of a material's images (the model's
# default ordering, the reads that pick each material's picture).
PRIMARY_FIRST = ("-is_primary", "id")


# A private catalog's files are under this prefix (materials/files.py); the service storing a
# row's files sets `stored_private` on it.
PRIVATE_PREFIX = "private/"


def _prefix(instance: MaterialImage) -> str:
    return PRIVATE_PREFIX if getattr(instance, "stored_private", False) else ""


def _image_path(instance: MaterialImage, filename: str) -> str:
    # Content-addressed: a file's name is its hash, so a path never leaks user input.
    return f"{_prefix(instance)}images/{instance.sha256[:2]}/{instance.sha256}.jpg"


def _thumbnail_path(instance: MaterialImage, filename: str) -> str:
    return f"{_prefix(instance)}thumbnails/{instance.sha256[:2]}/{instance.sha256}.jpg"


def _embedding_input_path(instance: MaterialImage, filename: str) -> str:
    return f"{_prefix(instance)}embedding/{instance.sha256[:2]}/{instance.sha256}.png"


class MaterialImage(models.Model):
    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="images")
    # Denormalised from material so that "the same bytes once per catalog" is a constraint.
    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to=_image_path)
    thumbnail = models.ImageField(upload_to=_thumbnail_path, blank=True)
    # The embedders' input (`materials.intake.embedding_input`), lossless: a vector is made from
    # the decoded pixels, as a query upload's is, never from the re-encoded JPEG above.
    embedding_input = models.FileField(
        upload_to=_embedding_input_path, blank=True, default="", db_default=""
    )
    sha256 = models.CharField(max_length=64, db_index=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    original_format = models.CharField(max_length=10, blank=True)
    original_filename = models.CharField(max_length=300, blank=True)
    # Where the image was downloaded from (`import_catalog` with a `url` column, the catalog
    # API): an interrupted URL import resumes by skipping the URLs already there.
    source_url = models.CharField(max_length=2000, blank=True, default="", db_default="")
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = list(PRIMARY_FIRST)
        indexes = [models.Index(fields=["catalog", "source_url"], name="image_source_url")]
        constraints = [
            models.UniqueConstraint(fields=["catalog", "sha256"], name="image_unique_per_catalog"),
            models.UniqueConstraint(
                fields=["material"],
                condition=Q(is_primary=True),
                name="image_one_primary_per_material",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.material.name} ({self.sha256[:8]})"


class IdempotentRequest(models.Model):
    """A create of the catalog API sent with `Idempotency-Key`: its answer, replayed when the
    same caller sends the same key again (and refused when the request differs)."""

    caller = models.CharField(max_length=100)  # "key:<prefix>" or "user:<id>"
    key = models.CharField(max_length=200)
    request_sha256 = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="idempotent_caller_key")
        ]

    def __str__(self) -> str:
        return f"{self.caller} {self.key}"


class CatalogWriteJob(models.Model):
    """A bulk write of the catalog API (up to 500 items), run by a worker task; its per-item
    results are read back by the job id."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="write_jobs")
    status = models.CharField(max_length=20, default="queued")  # queued | running | done
    items = models.JSONField(default=list)
    results = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"catalog write job {self.pk} ({self.status})"
