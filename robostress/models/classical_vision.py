"""What the ``classical`` baseline sees: fixed colour thresholds, a background model, blobs.

* The support, wall and floor are the dominant colours of the image: coarse Lab bins holding
  more than 8 % of the pixels, grown through neighbouring bins holding more than 0.3 % (shading
  gradients); everything else is foreground.
* A named colour is a fixed HSV range on raw 8-bit pixels (``COLOURS``), so darkness pushes
  pixels below the value floor, glare washes out saturation, and camouflage, glass or texture
  remove the colour searched for.
* A blob's category is its nearest shape prototype (``SHAPES``: bounding-box aspect, fill and
  area share), medians measured on the clean frames of a held-out calibration build (tabletop,
  40 scenes, seed 700000, 256 px), never on the benchmarks it is evaluated on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

MIN_V = 45  # of 255: darker pixels have no usable colour
# name -> (hue ranges on OpenCV's 0..179, saturation min, max, value min, max)
COLOURS: dict[str, tuple[tuple[tuple[int, int], ...], int, int, int, int]] = {
    "red": (((0, 7), (176, 179)), 120, 255, MIN_V, 255),
    "orange": (((8, 19),), 190, 255, MIN_V, 255),
    "brown": (((5, 22),), 110, 189, MIN_V, 150),
    "yellow": (((20, 34),), 120, 255, MIN_V, 255),
    "green": (((35, 80),), 80, 255, MIN_V, 255),
    "cyan": (((81, 100),), 80, 255, MIN_V, 255),
    "blue": (((101, 128),), 80, 255, MIN_V, 255),
    "purple": (((129, 155),), 80, 255, MIN_V, 255),
    "pink": (((156, 175),), 60, 160, MIN_V, 255),
    "gray": (((0, 179),), 0, 39, 60, 160),
    "white": (((0, 179),), 0, 39, 161, 255),
    "black": (((0, 179),), 0, 255, 0, 50),
}
# category -> (height / width of the upright silhouette, area / box area, area in permille of
# the image); TIPPED: the aspect of a category lying on its side
SHAPES: dict[str, tuple[float, float, float]] = {
    "ball": (0.95, 0.78, 10.0), "block": (1.08, 0.73, 8.0), "book": (0.81, 0.57, 41.0),
    "bottle": (2.43, 0.62, 29.0), "bowl": (0.77, 0.75, 34.0), "box": (1.14, 0.68, 44.0),
    "can": (1.62, 0.75, 16.0), "cone": (1.35, 0.62, 11.0), "mug": (1.21, 0.75, 19.0),
    "plate": (0.69, 0.77, 38.0), "pyramid": (1.10, 0.58, 7.0),
}
TIPPED = {"bottle": 1.2, "can": 1.05, "cone": 0.84, "mug": 0.94}
SCALE = (0.25, 0.10, 0.8)  # spread of each shape feature: log aspect, fill, log area


def colour_mask(hsv: np.ndarray, colour: str) -> np.ndarray:
    """Pixels of a named colour under fixed HSV thresholds (all False for unknown names)."""
    if colour not in COLOURS:
        return np.zeros(hsv.shape[:2], bool)
    hues, s_lo, s_hi, v_lo, v_hi = COLOURS[colour]
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    m = np.zeros(h.shape, bool)
    for lo, hi in hues:
        m |= (h >= lo) & (h <= hi)
    return m & (s >= s_lo) & (s <= s_hi) & (v >= v_lo) & (v <= v_hi)


def _grow(m: np.ndarray) -> np.ndarray:
    """Dilate a 3-D boolean array by one cell along every axis."""
    p = np.pad(m, 1)
    out = np.zeros_like(m)
    for i in range(3):
        for j in range(3):
            for k in range(3):
                out |= p[i:i + m.shape[0], j:j + m.shape[1], k:k + m.shape[2]]
    return out


def background(rgb: np.ndarray, seed: float = 0.08, grow: float = 0.003) -> np.ndarray:
    """Pixels of the dominant colours (support, wall, floor), grown along shading gradients."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.int32)
    q = (lab[..., 0] // 16) * 1024 + (lab[..., 1] // 8) * 32 + lab[..., 2] // 8
    hist = np.bincount(q.ravel(), minlength=16 * 32 * 32).reshape(16, 32, 32) / q.size
    cur = hist > seed
    if not cur.any():
        cur = hist >= hist.max()
    while True:
        nxt = cur | (_grow(cur) & (hist > grow))
        if (nxt == cur).all():
            return _grow(cur).ravel()[q]
        cur = nxt


@dataclass(frozen=True)
class Blob:
    """A connected region of one colour, in pixels."""

    x: int
    y: int
    w: int
    h: int
    area: int
    inner: tuple[int, int]  # the pixel deepest inside the region
    image_px: int  # pixels in the whole image

    @property
    def cx(self) -> float:
        """Horizontal centre of the bounding box."""
        return self.x + self.w / 2

    @property
    def bottom(self) -> int:
        """Row below the region (a lower base is nearer the camera on a tabletop)."""
        return self.y + self.h

    @property
    def fill(self) -> float:
        """Share of the bounding box covered by the region."""
        return self.area / (self.w * self.h)

    def cost(self, category: str, tipped: bool = False) -> float:
        """Squared scaled distance of this blob's shape to a category's prototype (0 = same)."""
        asp, fill, area = SHAPES.get(category, (1.0, 0.7, 15.0))
        if tipped:
            asp = TIPPED.get(category, asp)
        f = (np.log(self.h / self.w / asp), self.fill - fill, np.log(1000 * self.area / self.image_px / area))
        return float(sum((v / s) ** 2 for v, s in zip(f, SCALE, strict=True)))

    def category(self) -> str:
        """The nearest shape prototype."""
        return min(SHAPES, key=self.cost)


class View:
    """What the heuristics see in one RGB image (computed lazily, cached)."""

    def __init__(self, rgb: np.ndarray) -> None:
        self.rgb = rgb
        self.height, self.width = rgb.shape[:2]
        self.min_px = max(4, int(4e-4 * self.height * self.width))
        self._blobs: dict[str, list[Blob]] = {}

    @cached_property
    def hsv(self) -> np.ndarray:
        """The image in OpenCV HSV."""
        return cv2.cvtColor(self.rgb, cv2.COLOR_RGB2HSV)

    @cached_property
    def foreground(self) -> np.ndarray:
        """Pixels that are not the support, wall or floor."""
        return ~background(self.rgb)

    def blobs(self, colour: str) -> list[Blob]:
        """Blobs of a named colour, largest first (one-pixel gaps are bridged)."""
        if colour not in self._blobs:
            self._blobs[colour] = self._find(colour_mask(self.hsv, colour) & self.foreground)
        return self._blobs[colour]

    def _find(self, mask: np.ndarray) -> list[Blob]:
        n, labels = cv2.connectedComponents(cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)))
        out = []
        for i in range(1, n):
            part = (labels == i) & mask
            area = int(part.sum())
            if area < self.min_px:
                continue
            ys, xs = np.nonzero(part)
            x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())
            crop = np.pad(part[y0:y1 + 1, x0:x1 + 1].astype(np.uint8), 1)
            dist = cv2.distanceTransform(crop, cv2.DIST_L2, 3)[1:-1, 1:-1]
            iy, ix = np.unravel_index(int(np.argmax(dist)), dist.shape)
            out.append(Blob(x0, y0, x1 - x0 + 1, y1 - y0 + 1, area, (x0 + int(ix), y0 + int(iy)), mask.size))
        return sorted(out, key=lambda b: (-b.area, b.y, b.x))

    def find(self, colour: str | None, category: str | None) -> Blob | None:
        """The blob that best matches 'the <colour> <category>' (None when nothing does)."""
        cands = self.blobs(colour) if colour else sorted((b for _, b in self.all_blobs()), key=lambda b: -b.area)
        if not cands:
            return None
        if category is None:
            return cands[0]
        big = [b for b in cands if b.area >= 0.3 * cands[0].area]
        return min(big, key=lambda b: min(b.cost(category), b.cost(category, True)))

    def all_blobs(self) -> list[tuple[str, Blob]]:
        """Every blob of every named colour."""
        return [(c, b) for c in COLOURS for b in self.blobs(c)]

    def permille(self, x: float, y: float) -> list[int]:
        """Pixel coordinates (continuous, origin at the top-left corner) to permille."""
        return [round(1000 * x / self.width), round(1000 * y / self.height)]
