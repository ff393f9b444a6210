"""Scoring: exact option, box IoU, point-in-mask. An unparsable answer scores 0."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from robostress.questions.item import Item
from robostress.scoring.parse import parse_box, parse_choice, parse_point

MaskLoader = Callable[[str], np.ndarray]
BOX_SUCCESS_IOU = 0.5


@dataclass(frozen=True)
class ScoreResult:
    """How one answer scored."""

    parsed: Any
    parse_error: str | None
    score: float
    correct: bool
    chance: float
    details: dict[str, Any] = field(default_factory=dict)


def iou(a: list[float], b: list[float]) -> float:
    """Intersection over union of two x1,y1,x2,y2 boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def point_in_mask(point: list[float], mask: np.ndarray, instances: list[int]) -> bool:
    """Whether a permille point falls on a pixel whose value is one of ``instances``."""
    h, w = mask.shape
    x = min(w - 1, max(0, int(point[0] / 1000 * w)))
    y = min(h - 1, max(0, int(point[1] / 1000 * h)))
    return int(mask[y, x]) in set(instances)


def chance(item: Item, masks: MaskLoader) -> float:
    """Probability that a uniformly random answer is correct (the chance line of reports).

    Multiple choice: 1/options. Points: area share of the valid mask. Boxes: 0 (a random box
    essentially never reaches IoU 0.5; reported as such).
    """
    if item.format == "mc":
        return 1.0 / max(1, len(item.options))
    if item.format == "point":
        m = masks(item.truth["mask"])
        return float(np.isin(m, item.truth["instances"]).mean())
    return 0.0


def score(item: Item, raw: str, masks: MaskLoader) -> ScoreResult:
    """Parse and score a raw answer to ``item``."""
    c = chance(item, masks)
    if item.format == "mc":
        p = parse_choice(raw, item.options)
        ok = p.error is None and p.value == item.answer
        return ScoreResult(p.value, p.error, float(ok), ok, c)
    if item.format == "box":
        p = parse_box(raw)
        if p.error is not None:
            return ScoreResult(None, p.error, 0.0, False, c, {"iou": 0.0})
        v = iou(p.value, item.truth["box"])
        return ScoreResult(p.value, None, v, v >= BOX_SUCCESS_IOU, c,
                           {"iou": v, "iou@0.5": v >= 0.5, "iou@0.95": v >= 0.95})
    p = parse_point(raw)
    if p.error is not None:
        return ScoreResult(None, p.error, 0.0, False, c, {"in_mask": False})
    hit = point_in_mask(p.value, masks(item.truth["mask"]), item.truth["instances"])
    return ScoreResult(p.value, None, float(hit), hit, c, {"in_mask": hit})
