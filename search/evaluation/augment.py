"""A phone photo of a sample, at least as strong as issue 10 asks: a crop of 60–90 % of the area
at a random place, a rotation up to ±20° and a perspective tilt up to 12 % (neither leaves a
blank corner: the largest rectangle inside is kept), a rescale 0.6–1.6×, brightness ±30 %,
contrast ±25 %, a warm or cool colour cast up to 8 %, a blur up to radius 1.5, JPEG 60–90."""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

AREA = (0.6, 0.9)
MAX_ROTATION = 20.0
MAX_TILT = 0.12
SCALE = (0.6, 1.6)
BRIGHTNESS = 0.3
CONTRAST = 0.25
MAX_CAST = 0.08
MAX_BLUR = 1.5
JPEG_QUALITY = (60, 90)
MIN_SIDE = 32


def _crop(image: Image.Image, rng: np.random.Generator, strength: float) -> Image.Image:
    width, height = image.size
    area = 1 - strength * (1 - rng.uniform(*AREA))
    aspect = math.exp(rng.uniform(-0.2, 0.2))  # the crop need not keep the image's shape
    crop_w = min(width, max(MIN_SIDE, round(width * math.sqrt(area) * aspect)))
    crop_h = min(height, max(MIN_SIDE, round(width * height * area / crop_w)))
    left = int(rng.integers(0, width - crop_w + 1))
    top = int(rng.integers(0, height - crop_h + 1))
    return image.crop((left, top, left + crop_w, top + crop_h))


def _inscribed(width: int, height: int, angle: float) -> tuple[int, int]:
    """The largest axis-aligned rectangle inside a `width`×`height` one rotated by `angle`."""
    sin, cos = abs(math.sin(angle)), abs(math.cos(angle))
    long_side, short_side = max(width, height), min(width, height)
    if short_side <= 2 * sin * cos * long_side or abs(sin - cos) < 1e-10:
        x = 0.5 * short_side
        w, h = (x / sin, x / cos) if width >= height else (x / cos, x / sin)
    else:
        cos2 = cos * cos - sin * sin
        w, h = (width * cos - height * sin) / cos2, (height * cos - width * sin) / cos2
    return max(1, int(w)), max(1, int(h))


def _rotate(image: Image.Image, rng: np.random.Generator, strength: float) -> Image.Image:
    degrees = strength * rng.uniform(-MAX_ROTATION, MAX_ROTATION)
    rotated = image.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True)
    w, h = _inscribed(image.width, image.height, math.radians(degrees))
    left, top = (rotated.width - w) // 2, (rotated.height - h) // 2
    return rotated.crop((left + 1, top + 1, left + w - 1, top + h - 1))


def _perspective_coefficients(source: list, target: list) -> list[float]:
    """PIL's 8 coefficients mapping output points `target` to input points `source`."""
    rows, values = [], []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    return np.linalg.solve(np.asarray(rows, float), np.asarray(values, float)).tolist()


def _tilt(image: Image.Image, rng: np.random.Generator, strength: float) -> Image.Image:
    """A keystone: one side of the sample further from the camera than the other, then the
    rectangle that the tilted image still covers."""
    width, height = image.size
    tilt = strength * rng.uniform(0, MAX_TILT)
    horizontal = rng.random() < 0.5
    squeeze_x, squeeze_y = (tilt * width / 2, 0.0) if horizontal else (0.0, tilt * height / 2)
    near_first = rng.random() < 0.5
    # Output corners (tl, tr, br, bl) of the photo of the whole image.
    corners = [[0, 0], [width, 0], [width, height], [0, height]]
    if squeeze_x:  # the top or the bottom edge is shorter
        edge = (0, 1) if near_first else (3, 2)
        corners[edge[0]][0] += squeeze_x
        corners[edge[1]][0] -= squeeze_x
    else:  # the left or the right edge is shorter
        edge = (0, 3) if near_first else (1, 2)
        corners[edge[0]][1] += squeeze_y
        corners[edge[1]][1] -= squeeze_y
    source = [(0, 0), (width, 0), (width, height), (0, height)]
    coefficients = _perspective_coefficients(source, corners)
    warped = image.transform(
        image.size, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BICUBIC
    )
    inner = (
        math.ceil(squeeze_x) + 1,
        math.ceil(squeeze_y) + 1,
        width - math.ceil(squeeze_x) - 1,
        height - math.ceil(squeeze_y) - 1,
    )
    return warped.crop(inner)


def _cast(image: Image.Image, rng: np.random.Generator, strength: float) -> Image.Image:
    """A warm (red up, blue down) or cool (the reverse) light of up to `MAX_CAST`."""
    amount = strength * rng.uniform(-MAX_CAST, MAX_CAST)
    pixels = np.asarray(image, dtype=np.float32)
    gains = np.array([1 + amount, 1.0, 1 - amount], dtype=np.float32)
    return Image.fromarray(np.clip(pixels * gains, 0, 255).astype(np.uint8))


def phone_photo(image: Image.Image, *, rng: np.random.Generator, strength: float = 1.0) -> bytes:
    """`strength` 1: the alterations above; below 1, each departure from the image scaled
    down (0.5: half the rotation, tilt, cast, blur, lighting change, rescale and crop)."""
    photo = image.convert("RGB")
    photo = _tilt(_rotate(_crop(photo, rng, strength), rng, strength), rng, strength)
    scale = math.exp(strength * math.log(rng.uniform(*SCALE)))
    photo = photo.resize(
        (max(MIN_SIDE, round(photo.width * scale)), max(MIN_SIDE, round(photo.height * scale))),
        Image.Resampling.BICUBIC,
    )
    photo = ImageEnhance.Brightness(photo).enhance(
        1 + strength * rng.uniform(-BRIGHTNESS, BRIGHTNESS)
    )
    photo = ImageEnhance.Contrast(photo).enhance(1 + strength * rng.uniform(-CONTRAST, CONTRAST))
    photo = _cast(photo, rng, strength)
    photo = photo.filter(ImageFilter.GaussianBlur(strength * rng.uniform(0, MAX_BLUR)))
    buffer = io.BytesIO()
    quality = int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1))
    photo.save(buffer, "JPEG", quality=round(95 - strength * (95 - quality)))
    return buffer.getvalue()
