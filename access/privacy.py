"""Making a catalog private or public: its `PrivateCatalog` row, then its stored files moved to
the prefix that goes with it (materials/files.py: a private catalog's are under `private/`, a
prefix a CDN is never given). The admin and `catalog_privacy` call this; nothing else writes
`PrivateCatalog` rows."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from access.models import PrivateCatalog
from materials.files import catalog_files_place
from materials.models import Catalog


@dataclass(frozen=True)
class PrivacyChange:
    row: PrivateCatalog | None  # None: the catalog is public
    images_moved: int


def catalog_privacy_set(*, catalog: Catalog, private: bool) -> PrivacyChange:
    """Make `catalog` private or public and move its files. Run again after a failure (the
    store unreachable mid-move) it finishes the move: no file is lost either way."""
    with transaction.atomic():
        # FOR UPDATE waits for the images being stored (they hold KEY SHARE on the row until
        # they commit), and later ones see the new privacy: none is left under the old prefix.
        Catalog.objects.select_for_update().filter(pk=catalog.pk).first()
        if private:
            row, _ = PrivateCatalog.objects.get_or_create(catalog=catalog)
        else:
            PrivateCatalog.objects.filter(catalog=catalog).delete()
            row = None
    return PrivacyChange(row, catalog_files_place(catalog_id=catalog.pk, private=private))
