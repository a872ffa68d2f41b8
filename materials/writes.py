"""Writes of the catalog API (suppliers' systems): upsert by SKU, update, replace an image,
delete with files. Callers queue the analysis of the images these return (materials never
imports analysis)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from materials.errors import MaterialError
from materials.intake import IntakeLimits, image_normalise
from materials.models import Catalog, Material, MaterialImage
from materials.services import _delete_files, material_create_with_image, primary_image_store

FIELDS = ("name", "category", "sku", "supplier", "attributes")


@dataclass
class MaterialWrite:
    material: Material
    outcome: str  # created | updated | unchanged
    new_image_ids: list[int] = field(default_factory=list)


def _changed_fields(material: Material, fields: dict) -> list[str]:
    changed = []
    for name in FIELDS:
        if name in fields and getattr(material, name) != fields[name]:
            setattr(material, name, fields[name])
            changed.append(name)
    return changed


def material_image_replace(
    *, material: Material, data: bytes, source_url: str = "", filename: str = ""
) -> MaterialImage | None:
    """Make `data` the material's only image; None when it already is. The old images go,
    with their analyses and vectors (cascade) and their files."""
    normalised = image_normalise(data=data, limits=IntakeLimits.from_settings())
    old = list(material.images.all())
    if [image.sha256 for image in old] == [normalised.sha256]:
        return None
    taken = MaterialImage.objects.filter(catalog=material.catalog, sha256=normalised.sha256)
    if taken.exclude(material=material).exists():
        raise MaterialError(
            "duplicate_image", "Another material of this catalog already has this image."
        )
    with transaction.atomic():
        MaterialImage.objects.filter(pk__in=[i.pk for i in old]).delete()
        image = primary_image_store(
            material=material, normalised=normalised, source_url=source_url, filename=filename
        )
    for image_row in old:
        _delete_files(image_row)
    return image


def material_update(
    *, material: Material, fields: dict, data: bytes | None = None, source_url: str = ""
) -> MaterialWrite:
    """Change the given fields and, with `data`, the image (re-analysed by the caller)."""
    sku = fields.get("sku")
    if (
        sku
        and Material.objects.filter(catalog=material.catalog, sku=sku)
        .exclude(pk=material.pk)
        .exists()
    ):
        raise MaterialError("duplicate_sku", f"SKU {sku!r} is already used in this catalog.")
    changed = _changed_fields(material, fields)
    if changed:
        material.save(update_fields=[*changed, "updated_at"])
    image = (
        material_image_replace(material=material, data=data, source_url=source_url)
        if data
        else None
    )
    outcome = "updated" if changed or image else "unchanged"
    return MaterialWrite(material, outcome, [image.pk] if image else [])


def material_upsert(
    *, catalog: Catalog, fields: dict, data: bytes | None, source_url: str = "", filename: str = ""
) -> MaterialWrite:
    """Create a material, or update the one with this SKU: the same request twice changes
    nothing the second time."""
    sku = fields.get("sku")
    existing = Material.objects.filter(catalog=catalog, sku=sku).first() if sku else None
    if existing is not None:
        return material_update(material=existing, fields=fields, data=data, source_url=source_url)
    if data is None:
        raise MaterialError("image_required", "A new material needs an image (file or URL).")
    if not fields.get("name"):
        raise MaterialError("name_required", "A new material needs a name.")
    result = material_create_with_image(
        catalog=catalog,
        data=data,
        name=fields["name"],
        category=fields.get("category", ""),
        sku=sku or None,
        supplier=fields.get("supplier", ""),
        attributes=fields.get("attributes") or {},
        filename=filename,
        source_url=source_url,
    )
    if not result.created:
        raise MaterialError(
            "duplicate_image",
            f"Material {result.image.material_id} of this catalog already has this image.",
        )
    return MaterialWrite(result.image.material, "created", [result.image.pk])


def material_delete(*, material: Material) -> None:
    """Delete a material, its images, their analyses and vectors (cascade) and files."""
    images = list(material.images.all())
    with transaction.atomic():
        material.delete()
    for image in images:
        _delete_files(image)
