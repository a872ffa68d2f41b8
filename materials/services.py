"""Writes to the catalog. Views, commands and admin call these; nothing else saves models."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from materials.errors import MaterialError
from materials.files import catalog_private_for_write, file_delete_unreferenced, image_file_names
from materials.intake import IntakeLimits, image_normalise
from materials.models import Catalog, Material, MaterialImage
from materials.thumbnails import thumbnail_name


@dataclass(frozen=True)
class MaterialImageResult:
    image: MaterialImage
    created: bool


def catalog_get_or_create(*, name: str, description: str = "") -> Catalog:
    catalog, _ = Catalog.objects.get_or_create(name=name, defaults={"description": description})
    return catalog


def catalog_delete(*, catalog: Catalog) -> None:
    """Delete a catalog, its materials, images and the stored files."""
    images = list(MaterialImage.objects.filter(catalog=catalog))
    with transaction.atomic():
        _rows_locked(catalog)
        catalog.delete()
    for image in images:
        _delete_files(image)


def _rows_locked(catalog: Catalog) -> None:
    """The catalog's rows locked before Django's collector reads what refers to them. Rows
    that refer to them are also written on other connections (a search recorded in the
    background, an analysis finishing): without the lock one committed between the
    collector's reads and the delete fails the delete at commit (foreign keys are deferred);
    with it, such a write waits for the delete and is the one that fails."""
    list(Catalog.objects.select_for_update().filter(pk=catalog.pk).values_list("pk"))
    for model in (Material, MaterialImage):
        rows = model.objects.select_for_update().filter(catalog=catalog).order_by("pk")
        list(rows.values_list("pk"))


def _delete_files(image: MaterialImage) -> None:
    # Another row may name the same file (a bulk load of the same bytes): only files no row
    # names go.
    names = image_file_names(image.image.name, image.thumbnail.name, image.embedding_input.name)
    for name in names:
        file_delete_unreferenced(image.image.storage, name, image.sha256)


def thumbnails_store(*, image: MaterialImage, thumbnails: dict[str, bytes]) -> None:
    """Write an image's thumbnails: the 1× one through its field, the others beside it."""
    image.thumbnail.save(f"{image.sha256}.jpg", ContentFile(thumbnails[""]), save=False)
    storage = image.thumbnail.storage
    for suffix, data in thumbnails.items():
        if suffix:
            name = thumbnail_name(image.thumbnail.name, suffix)
            storage.delete(name)
            storage.save(name, ContentFile(data))


def primary_image_store(
    *, material: Material, normalised, source_url: str, filename: str
) -> MaterialImage:
    """Store a normalised image (`intake.image_normalise`) as the material's primary image:
    the content-addressed file, its thumbnails and embedding input, then the row."""
    image = MaterialImage(
        material=material,
        catalog=material.catalog,
        sha256=normalised.sha256,
        width=normalised.width,
        height=normalised.height,
        original_format=normalised.original_format,
        original_filename=filename[-300:],
        source_url=source_url[:2000],
        is_primary=True,
    )
    image.stored_private = catalog_private_for_write(material.catalog_id)
    image.image.save(f"{normalised.sha256}.jpg", ContentFile(normalised.content), save=False)
    thumbnails_store(image=image, thumbnails=normalised.thumbnails)
    image.embedding_input.save(
        f"{normalised.sha256}.png", ContentFile(normalised.embedding_input), save=False
    )
    image.save()
    return image


def material_create_with_image(
    *,
    catalog: Catalog,
    data: bytes,
    name: str,
    category: str = "",
    sku: str | None = None,
    supplier: str = "",
    attributes: dict | None = None,
    filename: str = "",
    limits: IntakeLimits | None = None,
    source_url: str = "",
) -> MaterialImageResult:
    """Create a material from one image, unless the catalog already holds those bytes.

    Raises `ImageIntakeError` for an image that intake refuses; nothing is written then.
    """
    normalised = image_normalise(data=data, limits=limits)
    existing = MaterialImage.objects.filter(catalog=catalog, sha256=normalised.sha256).first()
    if existing:
        return MaterialImageResult(image=existing, created=False)
    if sku and Material.objects.filter(catalog=catalog, sku=sku).exists():
        raise MaterialError("duplicate_sku", f"SKU {sku!r} is already used in this catalog.")
    try:
        with transaction.atomic():
            material = Material.objects.create(
                catalog=catalog,
                name=name[:300],
                category=category,
                sku=sku or None,
                supplier=supplier,
                attributes=attributes or {},
            )
            image = primary_image_store(
                material=material, normalised=normalised, source_url=source_url, filename=filename
            )
    except IntegrityError:
        # A concurrent import stored the same bytes first: theirs stands.
        existing = MaterialImage.objects.filter(catalog=catalog, sha256=normalised.sha256).first()
        if existing is None:
            raise
        return MaterialImageResult(image=existing, created=False)
    return MaterialImageResult(image=image, created=True)


def after_import_queue(*, image_ids: list[int], analysis: dict, here: bool = False) -> int | str:
    """Hand an import's new images to the analysis app, with the analysis options asked
    (vision, clip, depth): queued (how many), or, `here`, analysed in this process (the run's
    summary line). The callable is named in `SWATCH["AFTER_IMPORT"]`: materials never imports
    analysis."""
    hook = settings.SWATCH.get("AFTER_IMPORT")
    if not hook or not image_ids:
        return 0
    return import_string(hook)(image_ids=image_ids, analysis=analysis, here=here)
