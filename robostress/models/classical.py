"""``classical``: a weight-free vision baseline built from OpenCV colour and shape heuristics.

It really looks at the image — fixed HSV thresholds find objects by their colour names and
simple blob statistics stand in for shape — so physical stress degrades it the way it
degrades perception: darkness pushes pixels below the value threshold, glare washes out
saturation, camouflage and glass remove the colour it searches for. It never reads an
item's truth or answer; questions it has no rule for get a documented fallback (option A).

This is the CE reference model of DESIGN.md (the AlexNet of robostress).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from robostress.models.base import Model, Request, Response
from robostress.questions.item import LETTERS, Item
from robostress.render.io import read_rgb

VERSION = "c1"
MIN_S, MIN_V = 70, 45  # a pixel is "coloured" above these (of 255)
HUES: dict[str, tuple[tuple[int, int], ...]] = {  # OpenCV hue ranges (0..179)
    "red": ((0, 6), (172, 180)), "orange": ((7, 17),), "yellow": ((18, 34),), "green": ((35, 80),),
    "cyan": ((81, 98),), "blue": ((99, 128),), "purple": ((129, 150),), "pink": ((151, 171),),
}
# height/width of a category's upright silhouette seen from a robot's head camera
ASPECT = {"bottle": 2.6, "can": 1.5, "mug": 1.0, "cone": 1.1, "pyramid": 0.85, "block": 1.0, "box": 0.75,
          "ball": 1.0, "bowl": 0.55, "book": 0.45, "plate": 0.3}
WORD = re.compile(r"[a-z]+")


def colour_mask(hsv: np.ndarray, colour: str) -> np.ndarray:
    """Pixels of a named colour under fixed thresholds (empty for unknown names)."""
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    if colour == "gray":
        return (s < 30) & (v > 40) & (v < 110)
    if colour == "brown":
        return (h >= 5) & (h <= 20) & (s > MIN_S) & (v > 25) & (v < 110)
    if colour not in HUES:
        return np.zeros(h.shape, bool)
    m = np.zeros(h.shape, bool)
    for lo, hi in HUES[colour]:
        m |= (h >= lo) & (h <= hi)
    return m & (s > MIN_S) & (v > MIN_V)


def largest_blob(mask: np.ndarray, min_px: int = 6) -> tuple[int, int, int, int, float, float, int] | None:
    """(x, y, w, h, cx, cy, area) of the largest connected blob, or None."""
    n, _, stats, cents = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return None
    i = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h, a = (int(v) for v in stats[i])
    if a < min_px:
        return None
    return x, y, w, h, float(cents[i][0]), float(cents[i][1]), a


class Classical(Model):
    """OpenCV heuristics answering robostress questions from pixels."""

    name = "classical"

    def __init__(self, seed: int = 0, **unused: Any) -> None:
        self.seed = int(seed)

    def describe(self) -> dict[str, Any]:
        """Name and version (deterministic; the seed is unused)."""
        return {"backend": self.name, "version": VERSION}

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """Answer each request from its first image."""
        out = []
        for r in requests:
            assert r.item is not None, "classical needs the item (question type and options)"
            rgb = read_rgb(r.images[0])  # type: ignore[arg-type]
            out.append(Response(text=self.answer(r.item, rgb)))
        return out

    # -- question handling ------------------------------------------------------------------
    def answer(self, item: Item, rgb: np.ndarray) -> str:
        """The heuristic answer to one item."""
        hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
        words = WORD.findall(item.question.lower())
        colours = [w for w in words if w in HUES or w in ("gray", "brown")]
        blobs = {c: largest_blob(colour_mask(hsv, c)) for c in dict.fromkeys(colours)}
        h, w = rgb.shape[:2]
        if item.format in ("box", "point") and item.qtype != "placement":
            b = blobs.get(colours[0]) if colours else None
            if b is None:
                return "[0, 0, 1000, 1000]" if item.format == "box" else "[500, 500]"
            x, y, bw, bh, cx, cy, _ = b
            if item.format == "box":
                return json.dumps([round(1000 * x / w), round(1000 * y / h), round(1000 * (x + bw) / w),
                                   round(1000 * (y + bh) / h)])
            return json.dumps([round(1000 * cx / w), round(1000 * cy / h)])
        if item.qtype == "placement":
            return self._placement(hsv)
        return self._choice(item, hsv, colours, blobs)

    def _pick(self, item: Item, text: str) -> str:
        return LETTERS[item.options.index(text)] if text in item.options else "A"

    def _choice(self, item: Item, hsv: np.ndarray, colours: list[str], blobs: dict[str, Any]) -> str:
        q, opts = item.qtype, item.options
        if q == "color":
            found = {o: largest_blob(colour_mask(hsv, o)) for o in opts}
            cat = next((c for c in ASPECT if c in item.question.lower()), "block")
            scored = [(abs(np.log(b[3] / b[2] / ASPECT[cat])), o) for o, b in found.items() if b]
            return self._pick(item, min(scored)[1]) if scored else "A"
        b0 = blobs.get(colours[0]) if colours else None
        if q == "category" and b0:
            aspect = b0[3] / max(b0[2], 1)
            return self._pick(item, min(opts, key=lambda o: abs(np.log(aspect / ASPECT.get(o, 1.0)))))
        if q == "existence":
            return self._pick(item, "yes" if b0 and b0[6] >= 12 else "no")
        if q == "upright" and b0:
            cat = next((c for c in ASPECT if c in item.question.lower()), "can")
            return self._pick(item, "lying on its side" if b0[3] / max(b0[2], 1) < 0.7 * ASPECT[cat]
                              else "standing upright")
        if q in ("left_right", "front_behind") and len(colours) >= 2 and b0 and blobs.get(colours[1]):
            b1 = blobs[colours[1]]
            if q == "left_right":
                return self._pick(item, "to the left" if b0[4] < b1[4] else "to the right")
            near = 0 if b0[5] + b0[3] / 2 > b1[5] + b1[3] / 2 else 1  # lower in the image = nearer
            return LETTERS[near] if re.search(colours[near], opts[0]) else LETTERS[1 - near]
        if q == "count":
            n = self._count(hsv, item.question.lower())
            return self._pick(item, str(n))
        if q == "on":
            return next((LETTERS[i] for i, o in enumerate(opts) if re.match(r"^the (table|counter|shelf)$", o)), "A")
        if q == "next_action":
            return next((LETTERS[i] for i, o in enumerate(opts) if o.startswith("pick up the") and "top" not in o), "A")
        if q in ("clear", "goal"):
            return self._pick(item, "no" if q == "clear" else "yes")
        return "A"

    def _count(self, hsv: np.ndarray, question: str) -> int:
        cat = next((c for c in ASPECT if c in question or c + "s" in question or c + "es" in question), None)
        n = 0
        for c in list(HUES) + ["brown"]:
            b = largest_blob(colour_mask(hsv, c), min_px=10)
            if b and cat and abs(np.log(b[3] / max(b[2], 1) / ASPECT[cat])) < 0.25:
                n += 1
        return n

    def _placement(self, hsv: np.ndarray) -> str:
        h, w = hsv.shape[:2]
        lower = hsv[h // 2:, w // 4: 3 * w // 4].reshape(-1, 3).astype(np.int32)
        mode = np.median(lower, axis=0)  # the support dominates the lower middle of the view
        close = (np.abs(hsv.astype(np.int32) - mode) < np.array([8, 40, 40])).all(-1)
        close = cv2.morphologyEx(close.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        dist = cv2.distanceTransform(close, cv2.DIST_L2, 3)
        y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
        return json.dumps([round(1000 * (x + 0.5) / w), round(1000 * (y + 0.5) / h)])
