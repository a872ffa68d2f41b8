"""Synthetic non-materials for fitting P(material): solid colours, gradients, per-pixel
noise, drawn shapes and cartoons, document-like pages. Generated from a seed, never read
from any folder (real non-material photos are for evaluation only)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

KINDS = ("solid", "gradient", "noise", "shapes", "cartoon", "document")


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(c) for c in rng.integers(0, 256, 3))


def _solid(rng, w, h):
    return Image.new("RGB", (w, h), _colour(rng))


def _gradient(rng, w, h):
    t = (
        np.linspace(0, 1, w)[None, :, None]
        if rng.random() < 0.5
        else np.linspace(0, 1, h)[:, None, None]
    )
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    pixels = np.broadcast_to(t * a + (1 - t) * b, (h, w, 3))
    return Image.fromarray(pixels.astype(np.uint8))


def _noise(rng, w, h):
    if rng.random() < 0.5:
        pixels = rng.integers(0, 256, (h, w, 3))
    else:
        pixels = np.repeat(rng.normal(128, 60, (h, w, 1)).clip(0, 255), 3, axis=2)
    return Image.fromarray(pixels.astype(np.uint8))


def _shapes(rng, w, h, *, outline: bool = False):
    image = Image.new("RGB", (w, h), (255, 255, 255) if outline else _colour(rng))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(2, 10))):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1 = x0 + int(rng.integers(8, max(9, w // 2)))
        y1 = y0 + int(rng.integers(8, max(9, h // 2)))
        box = [x0, y0, x1, y1]
        line = (0, 0, 0) if outline else None
        width = int(rng.integers(1, 5))
        pick = int(rng.integers(0, 3))
        if pick == 0:
            draw.rectangle(box, fill=_colour(rng), outline=line, width=width)
        elif pick == 1:
            draw.ellipse(box, fill=_colour(rng), outline=line, width=width)
        else:
            corners = [(x0, y1), ((x0 + x1) // 2, y0), (x1, y1)]
            draw.polygon(corners, fill=_colour(rng), outline=line)
    return image


def _document(rng, w, h):
    image = Image.new("RGB", (w, h), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    y = int(rng.integers(4, 20))
    while y < h - 8:
        x = int(rng.integers(4, 16))
        while x < w - 20:
            word = int(rng.integers(6, 40))
            draw.rectangle([x, y, min(w - 4, x + word), y + 4], fill=(30, 30, 30))
            x += word + int(rng.integers(4, 10))
        y += int(rng.integers(10, 18))
    return image


def synthetic_nonmaterials(count: int, *, seed: int = 0) -> list[tuple[str, Image.Image]]:
    """`count` images, the kinds in turn, sizes 96–480 px."""
    rng = np.random.default_rng(seed)
    makers = {
        "solid": _solid,
        "gradient": _gradient,
        "noise": _noise,
        "shapes": _shapes,
        "cartoon": lambda r, w, h: _shapes(r, w, h, outline=True),
        "document": _document,
    }
    images = []
    for index in range(count):
        kind = KINDS[index % len(KINDS)]
        w, h = int(rng.integers(96, 480)), int(rng.integers(96, 480))
        images.append((kind, makers[kind](rng, w, h)))
    return images
