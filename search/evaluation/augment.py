"""A phone photo of a sample: a crop, a small rotation, a rescale, other lighting, JPEG."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageEnhance


def phone_photo(image: Image.Image, *, rng: np.random.Generator) -> bytes:
    width, height = image.size
    keep = rng.uniform(0.75, 0.9)
    crop_w, crop_h = int(width * keep), int(height * keep)
    left = int(rng.integers(0, width - crop_w + 1))
    top = int(rng.integers(0, height - crop_h + 1))
    photo = image.crop((left, top, left + crop_w, top + crop_h))
    angle = rng.uniform(-6, 6)
    rotated = photo.rotate(angle, resample=Image.Resampling.BILINEAR, expand=False)
    # Cut the blank corners the rotation leaves, as a framed photo would.
    margin = int(abs(np.tan(np.radians(angle))) * max(crop_w, crop_h) / 2) + 1
    photo = rotated.crop((margin, margin, crop_w - margin, crop_h - margin))
    scale = rng.uniform(0.7, 1.3)
    photo = photo.resize(
        (max(16, int(photo.width * scale)), max(16, int(photo.height * scale))),
        Image.Resampling.BICUBIC,
    )
    photo = ImageEnhance.Brightness(photo).enhance(rng.uniform(0.8, 1.2))
    photo = ImageEnhance.Contrast(photo).enhance(rng.uniform(0.85, 1.15))
    buffer = io.BytesIO()
    photo.convert("RGB").save(buffer, "JPEG", quality=int(rng.integers(70, 90)))
    return buffer.getvalue()
