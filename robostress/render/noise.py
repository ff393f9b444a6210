"""Equal-noise twins: per-pixel noise from independent passes, measured where the model looks.

Every frame is the mean of ``n >= 2`` independent passes of equal spp (seeds derived from the
frame seed; with the denoiser, each pass is denoised on its own before the mean). The spread
between passes estimates each pixel's noise without a reference. A stressed frame is compared
with its clean twin on three pixel sets:

- ``whole``: every pixel clipped in neither twin (a clipped channel shows no noise);
- ``target``: the stress targets' pixels, visible in both twins and clipped in neither;
- ``unchanged``: pixels the stress leaves alone (same first-hit surface, depth and local median
  colour), the matching rule of renderer r3-r8.

``whole`` and ``target`` are measured in what the model receives, the 8-bit frame: the RMS error
of a pixel around its expected value is sqrt(sigma^2 + 1/12) levels, sigma the render noise and
1/12 the variance of the rounding to 8 bits, which both twins carry. "Equal" is equal absolute
noise in those levels on the same pixels, also when a stress scales the signal (global exposure):
the model sees levels, not photon counts. If a ratio exceeds the allowed one, more passes are
added on a fixed ladder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

MIN_UNCHANGED_PX = 64  # fewer unchanged pixels than this: no comparison (global/viewpoint stresses)
MEDIAN_RADIUS = 2  # 5x5 median (OpenCV's float median allows 3x3 and 5x5): robust to fireflies, so they cannot carve holes in the mask
CLIP_LEVEL = 254.0  # sRGB level at or above which a channel is clipped (shows no noise; counts as clipped in the measures)
CHANGE_TOL = 2.0  # sRGB levels: local medians closer than this count as the same expected colour
QUANT_VAR = 1.0 / 12.0  # variance of rounding to 8-bit levels (uniform error of width one level)
MIN_TARGET_PX = 16  # fewer target pixels than this in both twins: no target figure (occluded, out of frame)


def srgb_levels(linear: np.ndarray) -> np.ndarray:
    """Linear RGB -> sRGB in 0..255 levels as float64 (clipped, not rounded)."""
    x = np.clip(np.nan_to_num(linear.astype(np.float64), nan=0.0), 0.0, 1.0)
    return 255.0 * np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)


def c4(n: int) -> float:
    """E[s] / sigma for the sample standard deviation of ``n`` normal draws (bias correction)."""
    return math.sqrt(2.0 / (n - 1)) * math.exp(math.lgamma(n / 2) - math.lgamma((n - 1) / 2))


@dataclass
class PassStack:
    """Running sums over independent equal-spp passes of one frame."""

    linear: np.ndarray | None = None  # sum of linear RGB passes
    srgb: np.ndarray | None = None  # sum of sRGB levels of each pass
    srgb_sq: np.ndarray | None = None  # sum of squared sRGB levels
    n: int = 0

    def add(self, linear: np.ndarray) -> None:
        """Add one pass (H x W x 3 linear RGB)."""
        lin = np.asarray(linear[..., :3], np.float64)
        s = srgb_levels(lin)
        if self.linear is None:
            self.linear, self.srgb, self.srgb_sq = lin.copy(), s, s * s
        else:
            self.linear += lin
            self.srgb += s  # type: ignore[operator]
            self.srgb_sq += s * s  # type: ignore[operator]
        self.n += 1

    def mean_linear(self) -> np.ndarray:
        """The frame: mean of the passes in linear RGB."""
        assert self.linear is not None and self.n > 0, "no passes rendered"
        return self.linear / self.n

    def noise(self) -> np.ndarray:
        """Per-pixel noise of the frame (std of the mean of the passes), sRGB levels, H x W.

        Sample std across passes, bias-corrected with c4(n) so that frames with different pass
        counts compare fairly, divided by sqrt(n), averaged over the three channels.
        """
        if self.n < 2:
            raise ValueError("noise needs at least two independent passes")
        assert self.srgb is not None and self.srgb_sq is not None
        var = np.maximum(self.srgb_sq - self.srgb * self.srgb / self.n, 0.0) / (self.n - 1)
        return (np.sqrt(var) / (c4(self.n) * math.sqrt(self.n))).mean(axis=-1)


@dataclass
class NoiseRef:
    """What a stressed twin is compared with: its clean twin's surfaces, colours and noise."""

    surface: np.ndarray  # H x W entity index (same numbering for both twins: see ``surface_codes``)
    depth: np.ndarray  # H x W metres
    median: np.ndarray  # H x W x 3 local median of the frame, sRGB levels
    noise: np.ndarray  # H x W per-pixel noise, sRGB levels
    names: dict[str, int] = field(default_factory=dict)  # entity id -> code in ``surface``
    clipped: np.ndarray | None = None  # H x W: a channel of the frame at or above CLIP_LEVEL


def surface_codes(ids: np.ndarray, id_map: dict[int, str], names: dict[str, int]) -> np.ndarray:
    """Instance numbers -> codes keyed by entity id (numbering may differ between twins)."""
    lut = np.full(max(id_map, default=0) + 1, -1, np.int64)
    for number, entity in id_map.items():
        lut[number] = names.setdefault(entity, len(names) + 1)
    lut[0] = 0
    return lut[np.clip(ids.astype(np.int64), 0, len(lut) - 1)]


def local_median(img: np.ndarray) -> np.ndarray:
    """Per-channel 5x5 median with edge replication (OpenCV: ~30x faster than numpy here)."""
    return cv2.medianBlur(np.ascontiguousarray(img, np.float32), 2 * MEDIAN_RADIUS + 1)


def erode(mask: np.ndarray, r: int = 1) -> np.ndarray:
    """Binary erosion by a (2r+1)^2 square (outside the image counts as False)."""
    pad = np.pad(mask, r, constant_values=False)
    return np.asarray(sliding_window_view(pad, (2 * r + 1, 2 * r + 1)).all(axis=(-1, -2)), bool)


def make_ref(stack: PassStack, ids: np.ndarray, id_map: dict[int, str], depth: np.ndarray) -> NoiseRef:
    """The clean twin's reference for matching stressed frames."""
    names: dict[str, int] = {}
    surface = surface_codes(ids, id_map, names)
    levels = srgb_levels(stack.mean_linear())
    return NoiseRef(surface=surface, depth=depth, median=local_median(levels), noise=stack.noise(),
                    names=names, clipped=clipped(levels))


def clipped(levels: np.ndarray) -> np.ndarray:
    """Pixels with a channel at or above CLIP_LEVEL (sRGB levels, H x W x 3 -> H x W)."""
    return np.asarray((levels >= CLIP_LEVEL).any(axis=-1), bool)


def rms8(noise: np.ndarray, mask: np.ndarray) -> float:
    """RMS error of the 8-bit frame around its expected value over ``mask``, in levels: render
    noise and the rounding to 8 bits together."""
    return math.sqrt(float(np.mean(np.square(noise[mask]))) + QUANT_VAR)


def frame_noise(noise: np.ndarray, levels: np.ndarray, target: np.ndarray) -> dict[str, float | None]:
    """A frame's own 8-bit noise on its non-clipped pixels and on its targets' non-clipped pixels."""
    ok = ~clipped(levels)
    t = ok & target
    return {"whole": round(rms8(noise, ok), 4) if ok.any() else None,
            "target": round(rms8(noise, t), 4) if int(t.sum()) >= MIN_TARGET_PX else None}


def target_mask(ids: np.ndarray, id_map: dict[int, str], targets: tuple[str, ...]) -> np.ndarray:
    """The targets' visible pixels (the union of their instance ids)."""
    number = {v: k for k, v in id_map.items()}
    return np.isin(ids, [number[t] for t in targets if t in number])


def twin_ratios(ref: NoiseRef, noise: np.ndarray, levels: np.ndarray, ids: np.ndarray,
                id_map: dict[int, str], targets: tuple[str, ...]) -> dict[str, float | None]:
    """Stressed / clean 8-bit noise on the same pixels: ``whole`` (clipped in neither twin) and
    ``target`` (the targets' pixels in both twins, clipped in neither); None if too few pixels."""
    assert ref.clipped is not None, "a NoiseRef made before renderer r9 has no clipped mask"
    ok = ~ref.clipped & ~clipped(levels)
    codes = [ref.names[t] for t in targets if t in ref.names]
    t = ok & np.isin(ref.surface, codes) & target_mask(ids, id_map, targets)
    out: dict[str, float | None] = {"whole": None, "target": None}
    for key, m in (("whole", ok), ("target", t)):
        if int(m.sum()) >= (MIN_TARGET_PX if key == "target" else MIN_UNCHANGED_PX):
            out[key] = rms8(noise, m) / rms8(ref.noise, m)
    return out


def unchanged_mask(ref: NoiseRef, stack: PassStack, ids: np.ndarray, id_map: dict[int, str],
                   depth: np.ndarray) -> np.ndarray:
    """Pixels whose expected value the stress leaves alone: same surface, depth and local colour.

    Eroded by one pixel so that silhouette edges (whose box-filtered mix of surfaces shifts
    under any geometric change) are not counted.
    """
    surface = surface_codes(ids, id_map, dict(ref.names))
    same = (surface == ref.surface) & (np.abs(depth - ref.depth) <= 1e-3 * np.maximum(ref.depth, 1e-3))
    med = local_median(srgb_levels(stack.mean_linear()))
    same &= (np.abs(med - ref.median) <= CHANGE_TOL).all(axis=-1)
    # A clipped pixel shows no noise, so it cannot say whether noise matches: one lab frame
    # (local underexposure s3) kept 749 pixels of a clipped white mug, clean noise 0.01 levels,
    # which the slight dimming unclipped (2.4 levels): a ratio of 118 that no pass count could meet.
    same &= (ref.median < CLIP_LEVEL).all(axis=-1)
    return erode(same)


def noise_ratio(ref: NoiseRef, noise: np.ndarray, mask: np.ndarray) -> float | None:
    """Mean noise of the stressed frame over ``mask`` / the clean twin's (None if too few px)."""
    if int(mask.sum()) < MIN_UNCHANGED_PX:
        return None
    clean = float(ref.noise[mask].mean())
    return float(noise[mask].mean()) / max(clean, 1e-6)
