"""Colour in a perceptual space: sRGB ↔ CIELAB, CIEDE2000 distance, and names for colours.

Search compares colours by ΔE00 rather than by name, so "oak brown" and "tan" can still match;
names are for people and for the text that describes a material.
"""

from __future__ import annotations

import numpy as np

# A compact palette of names people use for materials; each with its sRGB value.
NAMED_COLORS: dict[str, tuple[int, int, int]] = {
    "white": (245, 245, 242),
    "ivory": (236, 229, 206),
    "cream": (240, 226, 190),
    "beige": (214, 196, 160),
    "sand": (194, 178, 128),
    "tan": (190, 150, 100),
    "light grey": (192, 192, 192),
    "grey": (128, 128, 128),
    "dark grey": (72, 72, 72),
    "charcoal": (45, 45, 48),
    "black": (15, 15, 15),
    "brown": (120, 78, 45),
    "dark brown": (70, 45, 28),
    "chocolate": (90, 55, 35),
    "honey": (200, 140, 60),
    "orange": (225, 120, 40),
    "terracotta": (190, 90, 60),
    "rust": (160, 70, 35),
    "red": (190, 35, 35),
    "burgundy": (110, 25, 40),
    "pink": (230, 160, 170),
    "yellow": (230, 200, 60),
    "gold": (200, 165, 70),
    "olive": (120, 120, 50),
    "green": (60, 140, 60),
    "dark green": (30, 80, 40),
    "sage": (150, 170, 130),
    "teal": (30, 120, 120),
    "blue": (50, 90, 180),
    "navy": (30, 40, 90),
    "light blue": (150, 190, 225),
    "purple": (110, 60, 140),
    "silver": (180, 185, 190),
    "copper": (184, 115, 51),
    "bronze": (140, 100, 50),
}


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    value = value.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    if len(value) != 6 or any(c not in "0123456789abcdefABCDEF" for c in value):
        raise ValueError(f"not a hex colour: {value!r}")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def rgb_to_hex(rgb: tuple[int, int, int] | np.ndarray) -> str:
    r, g, b = (int(round(float(c))) for c in rgb)
    return f"#{max(0, min(255, r)):02x}{max(0, min(255, g)):02x}{max(0, min(255, b)):02x}"


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in 0..255, shape (..., 3) → CIELAB (D65), shape (..., 3)."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array(
        [
            [0.4124564, 0.3575761, 0.1804375],
            [0.2126729, 0.7151522, 0.0721750],
            [0.0193339, 0.1191920, 0.9503041],
        ]
    )
    xyz = linear @ m.T
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    eps = 216 / 24389
    kappa = 24389 / 27
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    lightness = 116 * f[..., 1] - 16
    a = 500 * (f[..., 0] - f[..., 1])
    b = 200 * (f[..., 1] - f[..., 2])
    return np.stack([lightness, a, b], axis=-1)


def lab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB (D65) → sRGB in 0..255 (clipped)."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    fx = fy + lab[..., 1] / 500
    fz = fy - lab[..., 2] / 200
    eps = 216 / 24389
    kappa = 24389 / 27

    def inverse(f: np.ndarray) -> np.ndarray:
        return np.where(f**3 > eps, f**3, (116 * f - 16) / kappa)

    xyz = np.stack([inverse(fx), inverse(fy), inverse(fz)], axis=-1) * np.array(
        [0.95047, 1.0, 1.08883]
    )
    m_inv = np.array(
        [
            [3.2404542, -1.5371385, -0.4985314],
            [-0.9692660, 1.8760108, 0.0415560],
            [0.0556434, -0.2040259, 1.0572252],
        ]
    )
    linear = np.clip(xyz @ m_inv.T, 0, 1)
    c = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.clip(c * 255, 0, 255)


def delta_e00(lab1: tuple[float, float, float], lab2: tuple[float, float, float]) -> float:
    """CIEDE2000 colour difference (about 2.3 is a just-noticeable difference) of one pair:
    the one implementation, `delta_e00_many`, on a single pair."""
    return float(delta_e00_many(lab1, lab2))


def delta_e00_many(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 of many pairs at once: CIELAB arrays of shape (..., 3) that broadcast against
    each other (e.g. (q, 1, 3) against (1, m, 3) for a q×m matrix)."""
    lab1 = np.asarray(lab1, dtype=np.float64)
    lab2 = np.asarray(lab2, dtype=np.float64)
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c1 = np.hypot(a1, b1)
    c2 = np.hypot(a2, b2)
    c_bar7 = ((c1 + c2) / 2) ** 7
    g = 0.5 * (1 - np.sqrt(c_bar7 / (c_bar7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dlp = l2 - l1
    dcp = c2p - c1p
    achromatic = c1p * c2p == 0
    dh = h2p - h1p
    dhp = np.where(
        achromatic,
        0.0,
        np.where(np.abs(dh) <= 180, dh, np.where(dh > 180, dh - 360, dh + 360)),
    )
    d_hp = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dhp / 2))
    lbp = (l1 + l2) / 2
    cbp = (c1p + c2p) / 2
    hsum = h1p + h2p
    hbp = np.where(
        achromatic,
        hsum,
        np.where(
            np.abs(h1p - h2p) <= 180,
            hsum / 2,
            np.where(hsum < 360, (hsum + 360) / 2, (hsum - 360) / 2),
        ),
    )
    t = (
        1
        - 0.17 * np.cos(np.radians(hbp - 30))
        + 0.24 * np.cos(np.radians(2 * hbp))
        + 0.32 * np.cos(np.radians(3 * hbp + 6))
        - 0.20 * np.cos(np.radians(4 * hbp - 63))
    )
    d_theta = 30 * np.exp(-(((hbp - 275) / 25) ** 2))
    cbp7 = cbp**7
    rc = 2 * np.sqrt(cbp7 / (cbp7 + 25**7))
    sl = 1 + (0.015 * (lbp - 50) ** 2) / np.sqrt(20 + (lbp - 50) ** 2)
    sc = 1 + 0.045 * cbp
    sh = 1 + 0.015 * cbp * t
    rt = -np.sin(np.radians(2 * d_theta)) * rc
    return np.sqrt(
        (dlp / sl) ** 2 + (dcp / sc) ** 2 + (d_hp / sh) ** 2 + rt * (dcp / sc) * (d_hp / sh)
    )


_NAMED_LAB = {
    name: tuple(float(v) for v in srgb_to_lab(np.array(rgb))) for name, rgb in NAMED_COLORS.items()
}


_NAMED_LAB_ARRAY = np.array(list(_NAMED_LAB.values()), dtype=np.float64)


def palette_distances(lab: tuple[float, float, float]) -> dict[str, float]:
    """CIEDE2000 from a CIELAB colour to each palette colour, in the palette's order."""
    distances = delta_e00_many(np.asarray(lab, dtype=np.float64), _NAMED_LAB_ARRAY)
    return dict(zip(_NAMED_LAB, (float(d) for d in distances), strict=True))


def color_name(lab: tuple[float, float, float]) -> str:
    """The palette name nearest to a CIELAB colour."""
    distances = palette_distances(lab)
    return min(distances, key=distances.__getitem__)


def named_color_lab(name: str) -> tuple[float, float, float] | None:
    return _NAMED_LAB.get(name.strip().lower())
