"""Answers independent of what the question shows: acceptance factors fitted on the train split.

The option weights (``robostress.questions.weighting``) balance how often each *kind* of option
is offered against how often it is right, over all questions. A learned text-only model
(``robostress leakage learner=logreg``) reads more than that: the question's words against each
option's, and each option against the others offered with it. Some types leak there: a colour
asked by a point gives its answer away by where the point is (the one black real object is a
frying pan, large and set at the table's edge: +10 points over chance from the point's
coordinates in 100-permille bins alone); a next-action question by the kinds of object and
destination it names (+15 points from the options' words alone); 'on' and 'move_first' by the
subject's kind against each option's ('a storage box' offered under a pudding box was never
right in 21 train questions) and by which options come together.

So such a type describes each question before it is kept (``QuestionType.acceptance_key``): the
kinds of its options, the true one, and the *attributes* its text shows (the point's cell; the
kinds it names). A question is then kept with a probability fitted so that, over the train
split, every kind offered is the truth one time in (number of options), whatever each attribute
says and whichever other kind is offered beside it: for every cell (attribute = value, kind
offered; also 'any question' and 'offered beside kind K'), the kept questions in which that kind
is the truth weigh one in k of all kept questions of the cell. The weights are the maximum-
entropy ones that meet these constraints (``fit``: one factor per cell, a small L2 penalty so
that a constraint no weights can meet leaves a finite factor), scaled so that the likeliest
fifth of the train questions is kept with probability one (scaled by the likeliest alone, most
questions would go). Fitted on 1000 train scenes, the share kept is 73 % for colour, 66 % for
next_action, 45 % for move_first and 44 % for 'on': the price of answers a text-only reader
cannot guess (``robostress calibrate`` prints each type's share). The draw that keeps a
question comes from its own seeded stream, on the clean twin, so a scene's question set stays a
pure function of seed and scene.

Refit after any change to scene sampling or to how these types choose: ``robostress calibrate``
fits this table beside the option weights.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from robostress.core.colour import PALETTE

ACCEPTANCE_TABLE = Path(__file__).parent / "weights" / "acceptance.json"
STEPS, LR = 1500, 0.05  # Adam on the dual
PENALTY = 1e-4  # L2 on the factors: a cell it cannot meet keeps a finite factor
QUANTILE = 0.8  # the scale keeps this quantile of the train questions' weights with probability one


@dataclass(frozen=True)
class Record:
    """One question before it is kept: its options' kinds, the true kind, what its text shows."""

    kinds: tuple[str, ...]
    truth: str
    attrs: Mapping[str, str]

    def cells(self) -> list[tuple[str, float]]:
        """(cell, coefficient) of every cell the question falls in: its log weight is the sum of
        each cell's factor times the coefficient, 1 - 1/k where the cell's kind is the truth and
        -1/k where it is offered wrong (k options)."""
        out = []
        for o in self.kinds:
            named = [("any", ""), *sorted(self.attrs.items()), *(("with", p) for p in self.kinds if p != o)]
            coef = float(o == self.truth) - 1.0 / len(self.kinds)
            out += [(f"{n}={v}|{o}", coef) for n, v in named]
        return out


def fit(records: Sequence[Record], steps: int = STEPS, penalty: float = PENALTY,
        quantile: float = QUANTILE) -> dict[str, Any]:
    """One factor per cell and the scale, for one type's ``records`` (see the module docstring);
    ``kept`` is the share of the records the factors keep, ``share_max`` the largest excess of a
    kind's share as the truth in its cell over one in k, before and after (cells of 20 records
    or more).

    A question's log weight is the sum, over its cells, of the cell's factor times its coefficient
    (``Record.cells``). The factors are those of the
    maximum-entropy weights (the least departure from keeping every question alike) that meet
    every cell's constraint: the convex dual, with an L2 ``penalty`` that leaves a cell it cannot
    meet (a kind offered but never right) at a finite factor, minimised by Adam.
    """
    if not records:
        return {"records": 0, "log_scale": 0.0, "kept": 1.0, "share_max": [0.0, 0.0], "factors": {}}
    names: dict[str, int] = {}
    rows, cols, coef = [], [], []
    for i, r in enumerate(records):
        for c, x in r.cells():
            rows.append(i)
            cols.append(names.setdefault(c, len(names)))
            coef.append(x)
    row, col, a = np.asarray(rows), np.asarray(cols), np.asarray(coef)
    n = len(names)
    lam, m, v = np.zeros(n), np.zeros(n), np.zeros(n)
    for step in range(1, steps + 1):
        s_ = np.bincount(row, weights=lam[col] * a, minlength=len(records))
        p = np.exp(s_ - s_.max())
        p /= p.sum()
        grad = np.bincount(col, weights=p[row] * a, minlength=n) + penalty * lam
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad ** 2
        lam -= LR * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-12)
    s_ = np.bincount(row, weights=lam[col] * a, minlength=len(records))
    log_scale = -_log_quantile(s_, quantile)
    kept = np.exp(np.minimum(0.0, s_ + log_scale))
    is_t = a > 0
    k = 1.0 / (is_t - a)
    inv = {i: c for c, i in names.items()}
    return {"records": len(records), "log_scale": log_scale, "kept": round(float(kept.mean()), 4),
            "share_max": [round(_share_max(row, col, is_t, k, np.ones(len(records)), n), 4),
                          round(_share_max(row, col, is_t, k, kept, n), 4)],
            "factors": {inv[i]: round(float(x), 5) for i, x in enumerate(lam)}}


def _log_quantile(log_w: np.ndarray, q: float) -> float:
    """log of the ``q`` quantile (linear interpolation) of exp(``log_w``), without forming weights
    that underflow (a fit on a handful of questions drives some to exp(-1000))."""
    x = np.sort(log_w)
    pos = q * (len(x) - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, len(x) - 1)
    return float(x[lo] + np.log1p((pos - lo) * np.expm1(x[hi] - x[lo])))


def _share_max(row: np.ndarray, col: np.ndarray, is_t: np.ndarray, k: np.ndarray, w: np.ndarray, n: int,
               least: int = 20) -> float:
    """The largest excess, over its cells of ``least`` records or more, of a kind's share as the
    truth in its cell over one in k (weights ``w`` per record)."""
    ww = w[row]
    tot = np.bincount(col, weights=ww, minlength=n)
    big = np.bincount(col, minlength=n) >= least
    excess = (np.bincount(col, weights=ww * is_t, minlength=n) - np.bincount(col, weights=ww / k, minlength=n))
    return float(np.max(np.where(big & (tot > 0), excess / np.maximum(tot, 1e-12), 0.0)))


def acceptance(entry: Mapping[str, Any], record: Record) -> float:
    """The probability a question described by ``record`` is kept (cells the fit never saw count
    as a factor of zero: nothing is known against them)."""
    f = entry["factors"]
    lw = sum(f[c] * x for c, x in record.cells() if c in f)
    return float(np.exp(min(0.0, lw + float(entry["log_scale"]))))


@functools.cache
def _table() -> dict[str, dict[str, Any]]:
    try:
        table = json.loads(ACCEPTANCE_TABLE.read_text())
    except FileNotFoundError:
        return {}
    return {fam: dict(entry["types"]) for fam, entry in table["families"].items()}


def entry_for(family: str, qtype: str) -> dict[str, Any] | None:
    """The fitted factors of a type in a family (None: its questions are all kept)."""
    return _table().get(family, {}).get(qtype)


def clear_cache() -> None:
    """Forget the table read (after writing a new one)."""
    _table.cache_clear()


def permille_cells(x: float, y: float) -> dict[str, str]:
    """Attributes of a point in permille of the image: its column and row in fifths and its cell
    in a 3x3 grid (a text-only reader may read the numbers as a position)."""
    def fifth(v: float) -> int:
        return min(4, max(0, int(v // 200)))

    def third(v: float) -> int:
        return min(2, max(0, int(v * 3 // 1000)))

    return {"x5": str(fifth(x)), "y5": str(fifth(y)), "cell3": f"{third(x)}{third(y)}"}


def kind_of(option: str) -> str:
    """The kind an option names: its words without a leading article and colour ('the red mug',
    'a mug' -> 'mug'), as a text-only reader abstracts one object of a kind from another."""
    words = option.split()
    if words and words[0] in ("the", "a", "an"):
        words = words[1:]
    if len(words) > 1 and words[0] in PALETTE:
        words = words[1:]
    return " ".join(words)
