"""A region of the query image: the part of a photo to search (the floor of a room photo).

A crop is given as fractions of the upright image — `x`, `y` its top-left corner, `width`,
`height` — so one box fits the photo at any size (the page may scale a photo down before it
is sent, or search again from its smaller inline copy). The search service cuts the image
before anything looks at it; the part has a hash of its own (the upload's hash and the box),
so vectors and analyses cached for the whole photo are never used for a part of it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from PIL import Image

from search.errors import SearchError

if TYPE_CHECKING:  # search.query builds a crop with this module: no import back at run time
    from search.query import SearchQuery

CROP_KEYS = ("x", "y", "width", "height")
# Rounding of a box edge: a fraction this close to 0 or 1 is the image's edge.
EDGE_TOLERANCE = 1e-3


@dataclass(frozen=True)
class ImageCrop:
    x: float
    y: float
    width: float
    height: float

    @property
    def whole(self) -> bool:
        return self.x == 0 and self.y == 0 and self.width == 1 and self.height == 1

    def key(self) -> str:
        return ",".join(f"{v:.4f}" for v in (self.x, self.y, self.width, self.height))

    def box(self, *, width: int, height: int) -> tuple[int, int, int, int]:
        """The box in pixels of an image of this size (left, top, right, bottom)."""
        left, top = round(self.x * width), round(self.y * height)
        right = min(width, round((self.x + self.width) * width))
        bottom = min(height, round((self.y + self.height) * height))
        return left, top, right, bottom


def _fraction(raw: dict[str, Any], key: str) -> float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise SearchError(
            "invalid_crop", f"crop.{key} must be a number from 0 to 1.", field=f"crop.{key}"
        )
    return float(value)


def crop_parse(*, raw: Any) -> ImageCrop | None:
    """Check a request's `crop` object ({"x", "y", "width", "height"}, fractions of the image)."""
    if raw in (None, "", {}):
        return None
    if not isinstance(raw, dict):
        raise SearchError(
            "invalid_crop",
            'crop must be an object {"x", "y", "width", "height"}, fractions of the image.',
            field="crop",
        )
    unknown = sorted(set(raw) - set(CROP_KEYS))
    if unknown:
        raise SearchError(
            "invalid_crop",
            f"Unknown crop key {unknown[0]!r}; a crop has {', '.join(CROP_KEYS)}.",
            field=f"crop.{unknown[0]}",
        )
    x, y, width, height = (_fraction(raw, key) for key in CROP_KEYS)
    if width <= 0 or height <= 0:
        raise SearchError(
            "invalid_crop", "crop.width and crop.height must be over 0.", field="crop"
        )
    if x + width > 1 + EDGE_TOLERANCE or y + height > 1 + EDGE_TOLERANCE:
        raise SearchError(
            "invalid_crop", "The crop must lie inside the image (x + width ≤ 1, y + height ≤ 1).",
            field="crop",
        )  # fmt: skip
    return ImageCrop(x=x, y=y, width=min(width, 1 - x), height=min(height, 1 - y))


def pixels_cropped(*, pixels: Image.Image, crop: ImageCrop, min_side: int) -> Image.Image:
    """The part of the image the crop names; too small a part is refused, naming its size."""
    left, top, right, bottom = crop.box(width=pixels.width, height=pixels.height)
    if right - left < min_side or bottom - top < min_side:
        raise SearchError(
            "crop_too_small",
            f"The selected part is {right - left}×{bottom - top} px of this image; both sides "
            f"must be at least {min_side} px. Select a larger part.",
            field="crop",
        )
    return pixels.crop((left, top, right, bottom))


def cropped_sha256(*, sha256: str, crop: ImageCrop) -> str:
    """The hash that names a part of an image (the whole image keeps its own)."""
    if crop.whole:
        return sha256
    return hashlib.sha256(f"{sha256}:crop:{crop.key()}".encode()).hexdigest()


def query_cropped(*, query: SearchQuery, min_side: int | None = None) -> SearchQuery:
    """The query with its image cut to its crop (the query itself when it has none)."""
    if query.crop is None or query.image is None:
        return query
    side = settings.SWATCH["MIN_IMAGE_SIDE"] if min_side is None else min_side
    image = dataclasses.replace(
        query.image,
        pixels=pixels_cropped(pixels=query.image.pixels, crop=query.crop, min_side=side),
        sha256=cropped_sha256(sha256=query.image.sha256, crop=query.crop),
    )
    return dataclasses.replace(query, image=image, crop=None)
