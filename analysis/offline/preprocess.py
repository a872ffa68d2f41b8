"""EfficientNet-Lite0's input, exactly as MODELS.md says: RGB, short side 256, centre crop 224,
`(x*255-127)/128`, channels first. Shared by the embedder and the export command's parity check."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

SHORT_SIDE = 256
CROP = 224


def image_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in {"RGBA", "LA", "PA"} or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels hold arbitrary colours: show them on white, as a viewer would.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def image_center_crop(image: Image.Image, *, short_side: int = SHORT_SIDE, crop: int = CROP):
    image = image_rgb(image)
    width, height = image.size
    scale = short_side / min(width, height)
    size = (max(crop, round(width * scale)), max(crop, round(height * scale)))
    image = image.resize(size, Image.Resampling.BICUBIC)
    left = (size[0] - crop) // 2
    top = (size[1] - crop) // 2
    return image.crop((left, top, left + crop, top + crop))


def image_tensor(images: Sequence[Image.Image]) -> np.ndarray:
    """Images → float32 array (n, 3, 224, 224) in the model's input range [-127/128, 1]."""
    batch = np.stack([np.asarray(image_center_crop(image), dtype=np.float32) for image in images])
    return np.ascontiguousarray(((batch - 127.0) / 128.0).transpose(0, 3, 1, 2))
