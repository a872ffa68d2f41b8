"""Reads of the catalog for other apps."""

from __future__ import annotations

from materials.models import PRIMARY_FIRST, MaterialImage


def material_primary_image_files(*, material_ids: list[int]) -> dict[int, str]:
    """Each material's primary (else first) stored image, as a storage name."""
    chosen: dict[int, str] = {}
    rows = (
        MaterialImage.objects.filter(material_id__in=material_ids)
        .order_by("material_id", *PRIMARY_FIRST)
        .values_list("material_id", "image")
    )
    for material_id, name in rows:
        chosen.setdefault(material_id, name)
    return chosen
