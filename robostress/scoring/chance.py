"""Chance: the expected success rate of a uniformly random answer, computed from the very sampler
the ``random`` baseline answers with (one definition, so ``random`` lands on its chance line).

The sampler (permille coordinates, each draw from an explicit Generator):

* ``mc``: a letter uniform over the item's options. Chance = 1 / number of options.
* ``box``: four uniforms on [0, 1000); x1, x2 = the sorted first two, y1, y2 = the sorted last two;
  a side shorter than 1 permille is widened to 1 (x2 = max(x2, x1 + 1)); coordinates are rounded to
  3 decimals, as the baseline writes them. Chance = P(IoU >= ``BOX_SUCCESS_IOU``) with the truth
  box, estimated on one fixed sample of ``BOX_CHANCE_DRAWS`` boxes from this sampler (seed
  ``CHANCE_SEED``), so it is a deterministic function of the truth box with Monte Carlo standard
  error sqrt(p (1 - p) / BOX_CHANCE_DRAWS) (0.0008 at p = 0.03). A drawn box that the parser would
  refuse (a widened side beyond 1000) counts as a miss, as it does when the baseline answers it.
* ``point`` (objects and placement alike): two uniforms on [0, 1000), rounded to 3 decimals; the
  point falls on a uniformly random pixel, so chance = the share of the mask's pixels that count as
  inside (the mask's area fraction): exact, no sampling.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from robostress.questions.item import LETTERS
from robostress.seeding import rng

CHANCE_SEED = 0
BOX_CHANCE_DRAWS = 50_000
BOX_SUCCESS_IOU = 0.5


def random_letter(g: np.random.Generator, n_options: int) -> str:
    """A letter uniform over the first ``n_options`` option letters."""
    return LETTERS[int(g.integers(n_options))]


def random_boxes(g: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random permille boxes (x1, y1, x2, y2) from the sampler of the module docstring."""
    u = g.uniform(0, 1000, (n, 4))
    x, y = np.sort(u[:, :2], axis=1), np.sort(u[:, 2:], axis=1)
    boxes = np.column_stack([x[:, 0], y[:, 0], np.maximum(x[:, 1], x[:, 0] + 1), np.maximum(y[:, 1], y[:, 0] + 1)])
    return np.round(boxes, 3)


def random_points(g: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random permille points (x, y), uniform over the image."""
    return np.round(g.uniform(0, 1000, (n, 2)), 3)


def ious(boxes: np.ndarray, box: Sequence[float]) -> np.ndarray:
    """IoU of each row of ``boxes`` (N x 4) with one box (0 where the union is empty)."""
    b = np.asarray(box, float)
    ix = np.clip(np.minimum(boxes[:, 2], b[2]) - np.maximum(boxes[:, 0], b[0]), 0, None)
    iy = np.clip(np.minimum(boxes[:, 3], b[3]) - np.maximum(boxes[:, 1], b[1]), 0, None)
    inter = ix * iy
    union = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


@functools.lru_cache(maxsize=1)
def _box_sample() -> np.ndarray:
    return random_boxes(rng(CHANCE_SEED, "box-chance"), BOX_CHANCE_DRAWS)


@functools.lru_cache(maxsize=65536)
def _box_scores(box: tuple[float, ...]) -> tuple[float, float]:
    boxes = _box_sample()
    v = np.where((boxes <= 1000).all(axis=1), ious(boxes, box), 0.0)
    return float((v >= BOX_SUCCESS_IOU).mean()), float(v.mean())


def box_chance(box: Sequence[float]) -> float:
    """P(IoU >= BOX_SUCCESS_IOU) of a random box with the truth ``box`` (see module docstring)."""
    return _box_scores(tuple(float(b) for b in box))[0]


def box_chance_iou(box: Sequence[float]) -> float:
    """Expected IoU of a random box with the truth ``box`` (the mean score of ``random``)."""
    return _box_scores(tuple(float(b) for b in box))[1]


def mask_chance(mask: np.ndarray, instances: Sequence[int]) -> float:
    """The share of ``mask``'s pixels whose value is one of ``instances`` (a random point's hit rate)."""
    return float(np.isin(mask, [int(i) for i in instances]).mean())
