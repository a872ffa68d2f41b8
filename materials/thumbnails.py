"""Square thumbnails for result grids, in the sizes 1×, 2× and 3× screens need.

A thumbnail is the centre square of the image (a portrait or panoramic photo never breaks a grid
of squares), scaled down to 320, 640 and 960 px — never up: a size is made only when the image's
short side is larger than the size below it, so a small image has one thumbnail at its own size.
The 1× file is `MaterialImage.thumbnail`; the others sit beside it as `…@2x.jpg` and `…@3x.jpg`,
so which exist follows from the stored image's width and height alone (`thumbnail_sizes`).
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

SIDES = (320, 640, 960)
SUFFIXES = ("", "@2x", "@3x")


@dataclass(frozen=True)
class ThumbnailSize:
    suffix: str  # "" for the 1× file, "@2x", "@3x"
    side: int  # pixels (the thumbnail is square)


def thumbnail_sizes(*, width: int, height: int) -> list[ThumbnailSize]:
    """The thumbnails an image of this size has, smallest first."""
    short = min(width, height)
    if short <= 0:
        return []
    sizes = [ThumbnailSize("", min(short, SIDES[0]))]
    for previous, side, suffix in zip(SIDES[:-1], SIDES[1:], SUFFIXES[1:], strict=True):
        if short > previous:
            sizes.append(ThumbnailSize(suffix, min(short, side)))
    return sizes


def thumbnail_name(base_name: str, suffix: str) -> str:
    """`thumbnails/ab/<sha>.jpg` → `thumbnails/ab/<sha>@2x.jpg`."""
    stem, dot, extension = base_name.rpartition(".")
    return f"{stem}{suffix}{dot}{extension}" if dot else f"{base_name}{suffix}"


def centre_square(pixels: Image.Image) -> Image.Image:
    width, height = pixels.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return pixels.crop((left, top, left + side, top + side))


def thumbnails_make(pixels: Image.Image) -> dict[str, Image.Image]:
    """Each thumbnail of these (upright RGB) pixels by its suffix."""
    square = centre_square(pixels)
    made = {}
    for size in thumbnail_sizes(width=pixels.width, height=pixels.height):
        made[size.suffix] = (
            square if square.width == size.side
            else square.resize((size.side, size.side), Image.Resampling.LANCZOS)
        )  # fmt: skip
    return made
