"""Weighted draws of the options a question offers, with weights calibrated on the train split.

A text-only reader sees the question and its options, never the scene. Whatever the sampler
makes likelier for one *kind* of option (a category, a coloured category, a count) than for
another shows through as an answer prior: the small boxes that carry the small objects, the
large objects that are never asked about in pairs, the objects that end up next to the gripper.
So question types that draw options (or the object they ask about) among candidates of several
kinds draw them with a weight per kind, chosen so that, over the train split, each kind is
offered in proportion to how often it is the truth (``robostress.evaluate.calibrate`` fits the
weights; ``option_weights`` reads them). A type describes one question's draw before making it
as a ``Sample``, from which the calibration simulates the draw.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

WEIGHT_TABLE = Path(__file__).parent / "weights" / "options.json"


@dataclass(frozen=True)
class Draw:
    """``k`` of ``candidates`` (their kinds; a kind may repeat, one entry per object) drawn without
    replacement, each next one with probability proportional to its kind's weight."""

    candidates: tuple[str, ...]
    k: int


@dataclass(frozen=True)
class Sample:
    """One question of the train split, before its weighted draw: the draw (None: nothing drawn by
    weight), offers its options make whatever the weights (kind -> expected number) and what it
    adds to each kind's target number of offers."""

    draw: Draw | None
    target: Mapping[str, float]
    fixed: Mapping[str, float] = field(default_factory=dict)


@functools.cache
def _table() -> dict[str, dict[str, dict[str, float]]]:
    try:
        table = json.loads(WEIGHT_TABLE.read_text())
    except FileNotFoundError:
        return {}
    return {fam: {qt: {k: float(v) for k, v in entry["weights"].items()} for qt, entry in qts["types"].items()}
            for fam, qts in table["families"].items()}


def option_weights(family: str, qtype: str) -> dict[str, float]:
    """The weight of each kind a question type of ``family`` draws by (calibrated on the train split
    by ``robostress.evaluate.calibrate``); empty (equal weights) where the table holds none."""
    return dict(_table().get(family, {}).get(qtype, {}))


def clear_cache() -> None:
    """Forget the table read (after writing a new one)."""
    _table.cache_clear()


def weighted_choice(g: np.random.Generator, kinds: Sequence[str], weight: Mapping[str, float]) -> int:
    """The position of one of ``kinds``, drawn with probability proportional to its kind's weight
    (1 if it has none)."""
    w = np.array([weight.get(k, 1.0) for k in kinds])
    return int(g.choice(len(kinds), p=w / w.sum()))


def weighted_order(g: np.random.Generator, kinds: Sequence[str], weight: Mapping[str, float]) -> list[int]:
    """Positions of ``kinds`` in a random order, each next one drawn by ``weighted_choice`` among
    those left (its first is the ``weighted_choice`` of all)."""
    left, out = list(range(len(kinds))), []
    while left:
        out.append(left.pop(weighted_choice(g, [kinds[i] for i in left], weight)))
    return out
