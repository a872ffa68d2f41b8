"""Where a catalog image's stored files live, and moving them when the catalog's privacy changes.

A public catalog's files are named `images/…`, `thumbnails/…`, `embedding/…`; a private
catalog's the same under `private/`, a prefix an object store's CDN is never given
(docs/DEPLOYMENT.md), so it cannot serve them by name. Which prefix a new image takes is asked of
`SWATCH["CATALOG_IS_PRIVATE"]` (access knows; materials does not import it) while holding a
KEY SHARE lock on the catalog row: a privacy change locks that row FOR UPDATE, so an image
being stored meanwhile is either committed before the change (and moved with the others) or
stored after it, under the new prefix.

A move copies first, then changes the row's names (only if no one changed them meanwhile), then
deletes the old files no row names any more: a crash leaves an extra copy, never a row naming a
missing file, and running the move again finishes it."""

from __future__ import annotations

from django.conf import settings
from django.core.files import File
from django.db import connection
from django.utils.module_loading import import_string

from materials.models import PRIVATE_PREFIX, Catalog, MaterialImage
from materials.thumbnails import SUFFIXES, thumbnail_name

FIELDS = ("image", "thumbnail", "embedding_input")


def catalog_private_for_write(catalog_id: int) -> bool:
    """Whether a new image of the catalog goes under the private prefix; call inside the
    transaction that stores the image (the lock is held until it commits)."""
    if not connection.in_atomic_block:
        raise RuntimeError("an image's prefix is decided inside the transaction storing it")
    table = connection.ops.quote_name(Catalog._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR KEY SHARE", [catalog_id])  # noqa: S608 - the model's table
    hook = settings.SWATCH.get("CATALOG_IS_PRIVATE")
    return bool(hook) and bool(import_string(hook)(catalog_id))


def image_file_names(image: str, thumbnail: str, embedding_input: str) -> set[str]:
    """Every stored file a row names: its image, embedding input and each thumbnail size."""
    names = {image, embedding_input}
    if thumbnail:
        names |= {thumbnail_name(thumbnail, suffix) for suffix in SUFFIXES}
    return names - {""}


def file_referenced(name: str, sha256: str) -> bool:
    """Whether a row still names the file (rows of the same bytes: one indexed query)."""
    rows = MaterialImage.objects.filter(sha256=sha256).values_list(*FIELDS)
    return any(name in image_file_names(*row) for row in rows)


def file_delete_unreferenced(storage, name: str, sha256: str) -> None:
    if name and not file_referenced(name, sha256):
        storage.delete(name)


def _placed(name: str, private: bool) -> str:
    bare = name.removeprefix(PRIVATE_PREFIX)
    return PRIVATE_PREFIX + bare if private else bare


def _copy(storage, source: str, target: str) -> str:
    """The name the copy got (another if `target` is taken: stored names are never overwritten)."""
    with storage.open(source, "rb") as opened:
        return storage.save(target, File(opened))


def _copy_thumbnails(storage, old: str, new: str, sha256: str) -> list[tuple[str, str]]:
    """The 2× and 3× thumbnails beside the copied 1× one: (old, new) names of those there."""
    copied = []
    for suffix in SUFFIXES[1:]:
        source, target = thumbnail_name(old, suffix), thumbnail_name(new, suffix)
        if not storage.exists(source):
            continue
        if storage.exists(target):  # a copy an interrupted move left: nobody's but ours
            file_delete_unreferenced(storage, target, sha256)
        saved = _copy(storage, source, target)
        copied.append((source, saved))
        if saved != target:  # another row's file there: this size would not be found
            storage.delete(saved)
            raise RuntimeError(f"{target} is taken by another image; nothing was moved")
    return copied


def _image_copies(image: MaterialImage, private: bool) -> tuple[dict, list[tuple[str, str]]]:
    """The row's new names and every (old, new) file copied to get them."""
    storage = image.image.storage
    names, copied = {}, []
    for field in FIELDS:
        name = getattr(image, field).name
        if not name or name.startswith(PRIVATE_PREFIX) == private:
            continue
        names[field] = _copy(storage, name, _placed(name, private))
        copied.append((name, names[field]))
        if field == "thumbnail":
            copied += _copy_thumbnails(storage, name, names[field], image.sha256)
    return names, copied


def image_files_place(image: MaterialImage, *, private: bool) -> bool:
    """Move one image's files under the prefix of `private`; whether any moved."""
    before = {field: getattr(image, field).name for field in FIELDS}
    names, copied = _image_copies(image, private)
    if not names:
        return False
    storage = image.image.storage
    changed = MaterialImage.objects.filter(pk=image.pk, **before).update(**names)
    # Changed: the old files are no row's now. Not: the row was replaced or deleted
    # meanwhile, and the copies are nobody's.
    for old, new in copied:
        file_delete_unreferenced(storage, old if changed else new, image.sha256)
    return bool(changed)


def catalog_files_place(*, catalog_id: int, private: bool) -> int:
    """Move every image file of a catalog under the prefix of `private`; how many images
    moved (0 when all were there already)."""
    images = MaterialImage.objects.filter(catalog_id=catalog_id).order_by("pk")
    return sum(image_files_place(image, private=private) for image in images.iterator(200))
