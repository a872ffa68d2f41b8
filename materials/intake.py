"""Image intake: every image that enters Swatch (catalog or query) passes through here.

Allow-listed formats only, a pixel cap checked from the header before anything is decoded (a
JPEG over it is decoded at reduced size instead: JPEG draft mode), truncation detected, EXIF
orientation applied, converted to RGB and re-encoded. Each refusal is an `ImageIntakeError`
with its own code, so callers can show a precise message.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from materials.decode_budget import BYTES_PER_PIXEL, decode_budget
from materials.errors import ImageIntakeError
from materials.metrics import VALIDATION_FAILURES
from materials.thumbnails import thumbnails_make

STORED_JPEG_QUALITY = 92
# The embedders' input is made from the decoded pixels, never from the stored JPEG: its short
# side is brought down to this (above any embedder's own input: CLIP 224–336, EfficientNet
# 256) and, for the catalog, kept losslessly (PNG), so the same pixels give the same vector.
EMBEDDING_SIDE = 336
EMBEDDING_MAX_ASPECT = 4
# The reductions libjpeg can decode at (JPEG draft mode): a side divided by 2, 4 or 8.
JPEG_DRAFT_SCALES = (2, 4, 8)
# Decoded pixels past this are reduced at once (an integer factor, box filter: fast) before
# anything else works on them: orientation, conversion, the embedders' input and the stored
# copy then cost a quarter of a 40 MP image's. Above what any later step keeps (2048 px
# stored, 1024 px for the describer, 336 px for the embedders).
WORKING_MAX_PIXELS = 16_000_000
REDUCIBLE_MODES = {"L", "LA", "RGB", "RGBA", "RGBa", "La", "I", "F", "CMYK"}


@dataclass(frozen=True)
class IntakeLimits:
    max_pixels: int
    max_bytes: int
    min_side: int
    max_stored_side: int
    formats: tuple[str, ...]

    @classmethod
    def from_settings(cls) -> IntakeLimits:
        conf = settings.SWATCH
        return cls(
            max_pixels=conf["MAX_IMAGE_PIXELS"],
            max_bytes=conf["MAX_UPLOAD_BYTES"],
            min_side=conf["MIN_IMAGE_SIDE"],
            max_stored_side=conf["STORED_IMAGE_MAX_SIDE"],
            formats=conf["ALLOWED_IMAGE_FORMATS"],
        )


@dataclass(frozen=True)
class NormalisedImage:
    """An accepted image: RGB pixels, the re-encoded file, its square thumbnails (by suffix:
    "" 1×, "@2x", "@3x"; `materials.thumbnails`) and its content hash."""

    pixels: Image.Image
    content: bytes
    thumbnails: dict[str, bytes]
    embedding_input: bytes  # PNG of `embedding_input(decoded pixels)`
    sha256: str
    width: int
    height: int
    original_format: str


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _open_checked(data: bytes, limits: IntakeLimits) -> Image.Image:
    if not data:
        raise ImageIntakeError("empty_file", "The file is empty.")
    if len(data) > limits.max_bytes:
        raise ImageIntakeError(
            "file_too_large",
            f"The file is {len(data):,} bytes; the limit is {limits.max_bytes:,} bytes.",
        )
    try:
        with warnings.catch_warnings():
            # Our own pixel cap (checked below, before decoding) is far stricter.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageIntakeError("too_many_pixels", f"The image is far too large: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ImageIntakeError("not_an_image", "The file is not an image Swatch can read.") from exc
    if image.format not in limits.formats:
        raise ImageIntakeError(
            "unsupported_format",
            f"{image.format or 'This'} images are not accepted; use one of "
            f"{', '.join(limits.formats)}.",
        )
    width, height = image.size
    if width * height > min(limits.max_pixels, WORKING_MAX_PIXELS):
        _jpeg_drafted(image, min(limits.max_pixels, WORKING_MAX_PIXELS))
    if image.size[0] * image.size[1] > limits.max_pixels:
        raise ImageIntakeError(
            "too_many_pixels",
            f"The image is {width}×{height} = {width * height / 1e6:.1f} megapixels; "
            f"the limit is {limits.max_pixels / 1e6:.1f} megapixels.",
        )
    width, height = image.size
    if min(width, height) < limits.min_side:
        raise ImageIntakeError(
            "too_small",
            f"The image is {width}×{height}; both sides must be at least {limits.min_side} px.",
        )
    return image


def _jpeg_drafted(image: Image.Image, max_pixels: int) -> None:
    """A JPEG over `max_pixels` (the working size, or a lower pixel cap) is decoded at the
    least reduction that brings it under (else the most there is), by JPEG draft mode:
    libjpeg's scaled decoding at 1/2, 1/4 or 1/8 of each side. So a 40 MP photo is decoded
    straight to what `_working` would reduce it to, and a 48–54 MP one under the cap: the
    full-size pixels are never in memory, nor decoded (far less work than a full decode)."""
    if image.format != "JPEG":
        return
    width, height = image.size
    fitting = [s for s in JPEG_DRAFT_SCALES if -(-width // s) * -(-height // s) <= max_pixels]
    scale = fitting[0] if fitting else JPEG_DRAFT_SCALES[-1]
    image.draft(None, (width // scale, height // scale))


def _decode(image: Image.Image) -> Image.Image:
    try:
        image.load()
    except OSError as exc:
        if "truncated" in str(exc).lower() or "broken data stream" in str(exc).lower():
            raise ImageIntakeError(
                "truncated", "The image file is truncated: part of it is missing."
            ) from exc
        raise ImageIntakeError("corrupt", f"The image data is corrupt: {exc}") from exc
    except (ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageIntakeError("corrupt", f"The image data is corrupt: {exc}") from exc
    return image


def _working(image: Image.Image) -> Image.Image:
    width, height = image.size
    if width * height <= WORKING_MAX_PIXELS:
        return image
    factor = math.ceil(math.sqrt(width * height / WORKING_MAX_PIXELS))
    source = image
    if image.mode not in REDUCIBLE_MODES:
        source = image.convert("RGBA" if "transparency" in image.info else "RGB")
    reduced = source.reduce(factor)
    reduced.info = dict(image.info)  # its EXIF orientation, for _to_rgb
    return reduced


def _decoded_rgb(opened: Image.Image) -> Image.Image:
    """Decode within the process's decoded-memory budget (materials/decode_budget.py), reduce
    a very large image to the working size, orient and convert it; the full-size pixels are
    let go of before the budget is."""
    width, height = opened.size
    budget = decode_budget(settings.SWATCH["DECODE_MEMORY_BYTES"])
    with budget.reserved(width * height * BYTES_PER_PIXEL):
        working = _working(_decode(opened))
        if working is not opened:
            opened.close()  # the full-size pixels, freed now rather than with the caller
        rgb = _to_rgb(working)
        if rgb is opened:  # pixels of their own, not tied to the upload's bytes (its file)
            rgb = opened.copy()
            opened.close()
        return rgb


def _to_rgb(image: Image.Image) -> Image.Image:
    # No copy of an upright image (only a turned one is new pixels): decoded here, it is ours.
    image = ImageOps.exif_transpose(image, in_place=True) or image
    if image.mode in {"RGBA", "LA", "PA"} or (image.mode == "P" and "transparency" in image.info):
        # Transparent areas become white, as a swatch on a white page looks.
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image if image.mode == "RGB" else image.convert("RGB")


def jpeg_encode(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    try:
        # 4:4:4: fine texture colour detail survives the re-encode.
        image.save(buffer, "JPEG", quality=STORED_JPEG_QUALITY, subsampling=0)
    except (OSError, ValueError) as exc:
        raise ImageIntakeError(
            "encode_failed", f"The image could not be re-encoded: {exc}"
        ) from exc
    return buffer.getvalue()


def _encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


def embedding_input(image: Image.Image) -> Image.Image:
    """The one normalisation of pixels before any image embedding, for catalog images and
    query uploads alike: upright RGB (as decoded here), the short side down to
    `EMBEDDING_SIDE` and the long side to `EMBEDDING_MAX_ASPECT` times that (Lanczos), never
    enlarged. Deterministic: the same pixels, whatever bytes carried them, give the same input."""
    image = image if image.mode == "RGB" else image.convert("RGB")
    width, height = image.size
    scale = min(1.0, EMBEDDING_SIDE / min(width, height))
    scale = min(scale, EMBEDDING_SIDE * EMBEDDING_MAX_ASPECT / max(width, height))
    if scale >= 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _fit(image: Image.Image, side: int) -> Image.Image:
    if max(image.size) <= side:
        return image
    fitted = image.copy()
    fitted.thumbnail((side, side), Image.Resampling.LANCZOS)
    return fitted


def _counted(function):
    """Every refusal of the intake counted in `swatch_validation_failures_total`."""

    @functools.wraps(function)
    def checked(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ImageIntakeError as exc:
            VALIDATION_FAILURES.labels(stage="image_intake", code=exc.code).inc()
            raise

    return checked


@_counted
def image_decode(*, data: bytes, limits: IntakeLimits | None = None) -> Image.Image:
    """Validate and decode to upright RGB pixels, without re-encoding (query images)."""
    limits = limits or IntakeLimits.from_settings()
    return _decoded_rgb(_open_checked(data, limits))


@_counted
def image_normalise(*, data: bytes, limits: IntakeLimits | None = None) -> NormalisedImage:
    """Validate, decode, orient and re-encode an image for storage; the embedders' input is
    made from the decoded pixels and kept losslessly beside it (`embedding_input`).

    The hash is of the bytes as received, so a re-import of the same file is recognised
    whatever Pillow version re-encodes it.
    """
    limits = limits or IntakeLimits.from_settings()
    opened = _open_checked(data, limits)
    original_format = opened.format or ""
    decoded = _decoded_rgb(opened)
    pixels = _fit(decoded, limits.max_stored_side)
    return NormalisedImage(
        pixels=pixels,
        content=jpeg_encode(pixels),
        thumbnails={k: jpeg_encode(v) for k, v in thumbnails_make(pixels).items()},
        embedding_input=_encode_png(embedding_input(decoded)),
        sha256=sha256_hex(data),
        width=pixels.width,
        height=pixels.height,
        original_format=original_format,
    )
