"""Colour conversions (8-bit sRGB, linear RGB, CIELAB) and the palette of named object colours."""

from __future__ import annotations

import numpy as np

# Linear-RGB albedos. Object colours are kept apart from surface colours so that a named
# colour always means the same thing in questions.
PALETTE: dict[str, tuple[float, float, float]] = {
    "red": (0.60, 0.04, 0.03), "green": (0.06, 0.40, 0.06), "blue": (0.04, 0.10, 0.60),
    "yellow": (0.70, 0.55, 0.03), "orange": (0.75, 0.22, 0.02), "purple": (0.25, 0.05, 0.45),
    "pink": (0.75, 0.25, 0.40), "cyan": (0.04, 0.45, 0.50), "brown": (0.20, 0.09, 0.03),
    "gray": (0.22, 0.22, 0.22), "white": (0.80, 0.80, 0.80), "black": (0.02, 0.02, 0.02),
}


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """8-bit sRGB -> linear floats in [0, 1]."""
    x = rgb.astype(np.float64) / 255.0
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb8(x: np.ndarray) -> np.ndarray:
    """Linear RGB floats -> 8-bit sRGB (clipped; deterministic numpy arithmetic)."""
    x = np.clip(np.nan_to_num(x.astype(np.float64), nan=0.0), 0.0, 1.0)
    y = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    return np.round(y * 255.0).astype(np.uint8)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Relative luminance (Rec. 709) of 8-bit sRGB pixels."""
    lin = srgb_to_linear(rgb)
    return lin[..., 0] * 0.2126 + lin[..., 1] * 0.7152 + lin[..., 2] * 0.0722


def lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of 8-bit sRGB pixels."""
    return lab_linear(srgb_to_linear(rgb))


def lab_linear(lin: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of linear RGB in [0, 1] (last axis: channels)."""
    lin = np.asarray(lin, np.float64)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    # elementwise, not ``lin @ m.T``: BLAS kernels sum in a CPU-dependent order, and these values
    # pick branches (camouflage colours, dropped items) that must agree across machines
    xyz = np.stack([lin[..., 0] * r[0] + lin[..., 1] * r[1] + lin[..., 2] * r[2] for r in m], -1)
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)
