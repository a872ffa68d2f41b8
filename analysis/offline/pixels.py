"""What pixels can say about a material, with no model: dominant colours in CIELAB, lightness,
contrast, texture regularity, direction and scale. Deterministic (seeded k-means).

Pixels cannot tell physical scale (no distance is known) or finish (gloss needs lighting
geometry): those are reported relative to the image and with low confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from analysis.colors import color_name, delta_e00, lab_to_srgb, rgb_to_hex, srgb_to_lab
from analysis.offline.preprocess import image_rgb

ANALYSIS_SIDE = 128  # statistics are taken on a copy this size (long side): fast, enough detail
MAX_COLORS = 5
MIN_COLOR_SHARE = 0.04
MERGE_DELTA_E = 6.0  # clusters closer than this (ΔE00) are one colour to the eye
KMEANS_ITERATIONS = 12
KMEANS_MAX_POINTS = 4096


@dataclass(frozen=True)
class DominantColor:
    name: str
    hex: str
    lab: tuple[float, float, float]
    share: float
    spread: float  # mean ΔE-ish (Euclidean Lab) of the cluster's pixels to its centre


@dataclass(frozen=True)
class PixelStats:
    colors: list[DominantColor]
    lightness: float  # mean L*, 0..100
    contrast: float  # 0..1, RMS contrast of L*
    regularity: float  # 0..1, strongest repeat of the autocorrelation beyond its central lobe
    coherence: float  # 0..1, how strongly gradients share one orientation
    direction: str  # none / horizontal / vertical / diagonal (of the stripes, not the gradient)
    scale: str  # smooth / fine / medium / coarse, relative to the image
    edge_density: float  # share of pixels with a strong gradient


def _small(image: Image.Image) -> Image.Image:
    image = image_rgb(image)
    image = image.copy()
    image.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.BOX)
    if min(image.size) < 8:  # a sliver of an image: gradients and spectra need some extent
        image = image.resize((max(8, image.width), max(8, image.height)), Image.Resampling.NEAREST)
    return image


def _kmeans(points: np.ndarray, k: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """k-means++ seeded, a fixed number of Lloyd steps: same image, same colours."""
    rng = np.random.default_rng(seed)
    centres = [points[rng.integers(len(points))]]
    for _ in range(1, k):
        d2 = np.min(((points[:, None, :] - np.array(centres)[None]) ** 2).sum(-1), axis=1)
        if d2.sum() <= 1e-9:
            break
        centres.append(points[rng.choice(len(points), p=d2 / d2.sum())])
    centres = np.array(centres)
    for _ in range(KMEANS_ITERATIONS):
        labels = ((points[:, None, :] - centres[None]) ** 2).sum(-1).argmin(axis=1)
        moved = np.array(
            [points[labels == i].mean(axis=0) if (labels == i).any() else centres[i]
             for i in range(len(centres))]
        )  # fmt: skip
        if np.allclose(moved, centres, atol=1e-3):
            break
        centres = moved
    labels = ((points[:, None, :] - centres[None]) ** 2).sum(-1).argmin(axis=1)
    return centres, labels


def dominant_colors(lab_pixels: np.ndarray, *, max_colors: int = MAX_COLORS) -> list[DominantColor]:
    points = lab_pixels.reshape(-1, 3)
    if len(points) > KMEANS_MAX_POINTS:  # a regular subsample: shares stay right, 4× faster
        points = points[:: len(points) // KMEANS_MAX_POINTS + 1]
    centres, labels = _kmeans(points, max_colors)
    clusters = [
        [centres[i], int((labels == i).sum()), points[labels == i]]
        for i in range(len(centres))
        if (labels == i).any()
    ]
    clusters.sort(key=lambda c: -c[1])
    merged: list[list] = []
    for centre, count, members in clusters:
        for target in merged:
            if delta_e00(tuple(target[0]), tuple(centre)) < MERGE_DELTA_E:
                total = target[1] + count
                target[0] = (target[0] * target[1] + centre * count) / total
                target[1] = total
                target[2] = np.concatenate([target[2], members])
                break
        else:
            merged.append([centre.copy(), count, members])
    total = len(points)
    kept = [c for c in merged if c[1] / total >= MIN_COLOR_SHARE] or merged[:1]
    kept.sort(key=lambda c: -c[1])
    kept_total = sum(c[1] for c in kept)
    colors = []
    for centre, count, members in kept:
        lab = (
            float(np.clip(centre[0], 0, 100)),
            float(np.clip(centre[1], -128, 128)),
            float(np.clip(centre[2], -128, 128)),
        )
        colors.append(
            DominantColor(
                name=color_name(lab),
                hex=rgb_to_hex(lab_to_srgb(np.array(lab))),
                lab=tuple(round(v, 2) for v in lab),
                share=round(count / kept_total, 4),
                spread=float(np.linalg.norm(members - centre, axis=1).mean()),
            )
        )
    return colors


def _regularity(lightness: np.ndarray) -> float:
    """Height of the strongest secondary peak of the normalised autocorrelation (0..1).

    Bricks, tiles and weaves repeat: their autocorrelation has strong peaks away from the
    centre. Random textures (stone, grass, concrete) decay and stay low."""
    centred = lightness - lightness.mean()
    if centred.std() < 1e-6:
        return 0.0
    spectrum = np.fft.fft2(centred)
    auto = np.fft.fftshift(np.fft.ifft2(np.abs(spectrum) ** 2).real)
    auto /= auto.max()
    h, w = auto.shape
    cy, cx = h // 2, w // 2
    yy, xx = np.mgrid[0:h, 0:w]
    radius = np.hypot(yy - cy, xx - cx)
    # The central lobe: out to where the radial mean of the autocorrelation first drops below 0.
    max_r = int(min(h, w) * 0.45)
    profile = [auto[(radius >= r) & (radius < r + 1)].mean() for r in range(max_r)]
    first_zero = next((r for r, value in enumerate(profile) if value < 0), max_r // 2)
    ring = (radius > max(first_zero, 2)) & (radius < max_r)
    if not ring.any():
        return 0.0
    # Periodic images wrap around in a circular autocorrelation: weight by overlap area.
    overlap = (1 - np.abs(yy - cy) / h) * (1 - np.abs(xx - cx) / w)
    return float(np.clip((auto * overlap)[ring].max() / 0.75, 0.0, 1.0))


def _orientation(lightness: np.ndarray) -> tuple[float, str, float]:
    gy, gx = np.gradient(lightness)
    jxx, jyy, jxy = (gx * gx).sum(), (gy * gy).sum(), (gx * gy).sum()
    energy = jxx + jyy
    magnitude = np.hypot(gx, gy)
    edge_density = float((magnitude > 4.0).mean())  # > 4 L* units per pixel: a visible edge
    if energy < 1e-9:
        return 0.0, "none", edge_density
    coherence = float(np.hypot(jxx - jyy, 2 * jxy) / energy)
    # Gradients point across stripes: the stripes run perpendicular to the mean gradient.
    gradient_angle = 0.5 * np.degrees(np.arctan2(2 * jxy, jxx - jyy))
    stripe_angle = (gradient_angle + 90.0) % 180.0
    if coherence < 0.25:
        direction = "none"
    elif stripe_angle < 22.5 or stripe_angle >= 157.5:
        direction = "horizontal"
    elif 67.5 <= stripe_angle < 112.5:
        direction = "vertical"
    else:
        direction = "diagonal"
    return coherence, direction, edge_density


def _scale(lightness: np.ndarray, contrast: float) -> str:
    """Relative to the image: where the power spectrum's energy sits (centroid frequency)."""
    if contrast < 0.04:
        return "smooth"
    centred = lightness - lightness.mean()
    power = np.abs(np.fft.fftshift(np.fft.fft2(centred))) ** 2
    h, w = power.shape
    yy, xx = np.mgrid[0:h, 0:w]
    frequency = np.hypot((yy - h // 2) / h, (xx - w // 2) / w)  # cycles per pixel, 0..0.7
    centroid = float((power * frequency).sum() / max(power.sum(), 1e-12))
    if centroid > 0.18:
        return "fine"
    if centroid > 0.09:
        return "medium"
    return "coarse"


def pixel_stats(image: Image.Image) -> PixelStats:
    small = _small(image)
    rgb = np.asarray(small, dtype=np.float64)
    lab = srgb_to_lab(rgb)
    lightness = lab[..., 0]
    contrast = float(np.clip(lightness.std() / 30.0, 0.0, 1.0))  # std 30 L*: black/white mix
    coherence, direction, edge_density = _orientation(lightness)
    return PixelStats(
        colors=dominant_colors(lab),
        lightness=float(np.clip(lightness.mean(), 0, 100)),
        contrast=contrast,
        regularity=_regularity(lightness) if contrast >= 0.02 else 0.0,
        coherence=coherence,
        direction=direction if contrast >= 0.02 else "none",
        scale=_scale(lightness, contrast),
        edge_density=edge_density,
    )
