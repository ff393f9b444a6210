"""Scoring: exact option, box IoU, point in mask. An unparsable answer scores 0.

One scorer per answer format, registered by format name. Each returns the parsed value, the
score, whether it counts as correct, the chance level and format-specific details:

* ``mc``: score 1 for the correct letter, else 0; chance = 1 / number of options.
* ``box``: score = IoU with the truth box (both permille x1, y1, x2, y2); correct when
  IoU >= 0.5; details ``iou``, ``iou@0.5``, ``iou@0.95``. Chance = P(IoU >= 0.5) of the
  ``random`` baseline's box distribution with this truth box (``robostress.scoring.chance``).
* ``point``: the permille point falls on pixel (floor(x * W / 1000), floor(y * H / 1000)),
  clamped to the image, i.e. the pixel whose centre is nearest; correct when that pixel's value
  in the truth mask is one of ``truth['instances']`` (and, for placement, inside the run-length
  ``truth['region']``). Chance = share of the mask's pixels that count as inside (the hit rate
  of a uniformly random point; ``robostress.scoring.chance``).

Malformed items (missing truth keys, a mask that is not 2-D) raise ``DataError`` naming the
item: they are benchmark bugs, not model errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from robostress.errors import DataError
from robostress.questions.item import LETTERS, Item
from robostress.questions.region import decode
from robostress.scoring.chance import BOX_SUCCESS_IOU, box_chance, box_chance_iou, mask_chance
from robostress.scoring.parse import Parsed, parse_box, parse_choice, parse_point

MaskLoader = Callable[[str], np.ndarray]
SCORER_VERSION = "s3"  # bump when a parsing or scoring rule changes results (s3: computed box chance)


@dataclass(frozen=True)
class ScoreResult:
    """How one answer scored."""

    parsed: Any  # letter, [x1, y1, x2, y2] or [x, y]; None when unparsable
    parse_error: str | None  # why the raw text could not be parsed
    score: float  # 1/0 for multiple choice and points, IoU for boxes
    correct: bool  # counted as a success (IoU >= 0.5 for boxes)
    chance: float  # probability that a uniformly random answer is correct
    details: dict[str, Any] = field(default_factory=dict)


class Scorer(Protocol):
    """Parses and scores one reply: ``score`` (robostress's rules) or ``rsb_scorer`` (RoboStressBench's)."""

    def __call__(self, item: Item, raw: str, masks: MaskLoader) -> ScoreResult:
        """Score ``raw`` (the model's text, already bounded) against ``item``'s truth."""
        ...


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two x1, y1, x2, y2 boxes (0 when the union is empty)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def point_pixel(point: Sequence[float], shape: tuple[int, ...]) -> tuple[int, int]:
    """The (x, y) pixel of an image of ``shape`` (H, W) that a permille point falls on."""
    h, w = shape[:2]
    x = min(w - 1, max(0, int(point[0] * w / 1000.0)))
    y = min(h - 1, max(0, int(point[1] * h / 1000.0)))
    return x, y


def point_in_mask(point: Sequence[float], mask: np.ndarray, instances: Sequence[int]) -> bool:
    """Whether a permille point falls on a pixel whose value is one of ``instances``."""
    x, y = point_pixel(point, mask.shape)
    return int(mask[y, x]) in {int(i) for i in instances}


def _truth(item: Item, key: str) -> Any:
    if key not in item.truth:
        raise DataError(f"item {item.item_id} ({item.format}) has no truth[{key!r}]; "
                        f"it has {sorted(item.truth)}")
    return item.truth[key]


def _mask(item: Item, masks: MaskLoader) -> np.ndarray:
    m = np.asarray(masks(str(_truth(item, "mask"))))
    if m.ndim == 3 and m.shape[2] == 1:
        m = m[..., 0]
    if m.ndim != 2 or m.size == 0:
        raise DataError(f"mask {item.truth['mask']} of item {item.item_id} is not a 2-D image "
                        f"(shape {m.shape})")
    return m


def _score_mc(item: Item, raw: str, masks: MaskLoader) -> ScoreResult:
    letters = LETTERS[: len(item.options)]
    if not item.options or item.answer is None or item.answer not in letters:
        raise DataError(f"item {item.item_id}: answer {item.answer!r} is not one of the "
                        f"{len(item.options)} option letters")
    p = parse_choice(raw, item.options)
    ok = p.error is None and p.value == item.answer
    return ScoreResult(p.value, p.error, float(ok), ok, 1.0 / len(item.options))


def _score_box(item: Item, raw: str, masks: MaskLoader) -> ScoreResult:
    box = _truth(item, "box")
    if not (isinstance(box, (list, tuple)) and len(box) == 4):
        raise DataError(f"item {item.item_id}: truth['box'] must be [x1, y1, x2, y2], got {box!r}")
    p = parse_box(raw)
    truth = [float(b) for b in box]
    v = iou(p.value, truth) if p.error is None else 0.0
    return ScoreResult(p.value, p.error, v, v >= BOX_SUCCESS_IOU, box_chance(truth),
                       {"iou": v, "iou@0.5": v >= 0.5, "iou@0.95": v >= 0.95, "chance_iou": box_chance_iou(truth)})


def truth_mask(item: Item, masks: MaskLoader) -> np.ndarray:
    """The truth mask of a point item, restricted to ``truth['region']`` where it has one
    (placement: outside the region every pixel counts as 0, a miss)."""
    mask = _mask(item, masks)
    if "region" not in item.truth:
        return mask
    try:
        region = decode(item.truth["region"])
    except (KeyError, TypeError, ValueError) as e:
        raise DataError(f"item {item.item_id}: truth['region'] is not a run-length region: {e}") from None
    if region.shape != mask.shape:
        raise DataError(f"item {item.item_id}: region {region.shape} and mask {mask.shape} differ in size")
    return np.where(region, mask, 0)


def _score_point(item: Item, raw: str, masks: MaskLoader) -> ScoreResult:
    inst = [int(i) for i in _truth(item, "instances")]
    mask = truth_mask(item, masks)
    chance = mask_chance(mask, inst)
    p = parse_point(raw)
    if p.error is not None:
        return ScoreResult(None, p.error, 0.0, False, chance, {"in_mask": False})
    x, y = point_pixel(p.value, mask.shape)
    hit = int(mask[y, x]) in inst
    return ScoreResult(p.value, None, float(hit), hit, chance, {"in_mask": hit, "pixel": [x, y]})


SCORERS: dict[str, Scorer] = {"mc": _score_mc, "box": _score_box, "point": _score_point}
PARSERS: dict[str, Callable[[Item, str], Parsed]] = {
    "mc": lambda item, raw: parse_choice(raw, item.options),
    "box": lambda item, raw: parse_box(raw),
    "point": lambda item, raw: parse_point(raw),
}


def parse_answer(item: Item, raw: str | None) -> Parsed:
    """Parse a raw reply by the item's format (no truth needed)."""
    return PARSERS[item.format](item, raw or "")


def chance(item: Item, masks: MaskLoader) -> float:
    """Probability that the ``random`` baseline's answer to ``item`` is correct (see module doc)."""
    return score(item, "", masks).chance


def score(item: Item, raw: str | None, masks: MaskLoader) -> ScoreResult:
    """Parse and score a raw answer to ``item``; ``masks`` loads a mask by benchmark path."""
    if item.format not in SCORERS:
        raise DataError(f"item {item.item_id}: unknown answer format {item.format!r}; "
                        f"known: {sorted(SCORERS)}")
    return SCORERS[item.format](item, raw or "", masks)
