"""What a result card shows of a material's picture: its square thumbnail with a `srcset` of the
2× and 3× files that exist (`materials.thumbnails`), and whether it is smaller than a card, in
which case the page shows it at its own size instead of blowing it up."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from access.media import media_url_for
from materials.models import PRIMARY_FIRST, MaterialImage
from materials.thumbnails import thumbnail_name, thumbnail_sizes

# A card's picture is about this wide on a desktop grid (CSS: .grid, minmax(200px, 1fr)).
CARD_SIDE = 200


@dataclass(frozen=True)
class Thumb:
    src: str
    srcset: str
    side: int

    @property
    def small(self) -> bool:
        return self.side < CARD_SIDE


@dataclass(frozen=True)
class Card:
    """A result (search or browse) and its picture, as the card template reads them."""

    result: object
    thumb: Thumb | None


def thumbs_of(
    *, material_ids: Iterable[int], private_catalogs: Collection[int] = ()
) -> dict[int, Thumb]:
    """The primary image's thumbnails of each material (one query); those of
    `private_catalogs` (private ones the asker may see) at signed URLs."""
    rows = (
        MaterialImage.objects.filter(material_id__in=list(material_ids))
        .exclude(thumbnail="")
        .order_by("material_id", *PRIMARY_FIRST)
        .values_list("material_id", "thumbnail", "width", "height", "catalog_id")
    )
    thumbs: dict[int, Thumb] = {}
    for material_id, name, width, height, catalog_id in rows:
        if material_id in thumbs:
            continue
        sizes = thumbnail_sizes(width=width, height=height)
        if not sizes:
            continue
        private = catalog_id in private_catalogs
        srcset = ", ".join(
            f"{media_url_for(thumbnail_name(name, s.suffix), private=private)} {s.side}w"
            for s in sizes
        )
        thumbs[material_id] = Thumb(
            src=media_url_for(name, private=private),
            srcset=srcset if len(sizes) > 1 else "",
            side=sizes[0].side,
        )
    return thumbs


def cards_of(results: Iterable, *, private_catalogs: Collection[int] = ()) -> list[Card]:
    results = list(results)
    ids = [r.material_id for r in results]
    thumbs = thumbs_of(material_ids=ids, private_catalogs=private_catalogs)
    return [Card(result=r, thumb=thumbs.get(r.material_id)) for r in results]
