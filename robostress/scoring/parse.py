"""Strict answer parsing. Model output is untrusted text: bounded, never evaluated.

Rules (documented so that scores mean the same thing for every model):

Multiple choice (options lettered A, B, ...):
1. The reply is stripped of whitespace, surrounding quotes, brackets and trailing punctuation
   and of a leading "answer:", "the answer is", "option" or "final answer:".
2. What is left must be exactly one option letter ("B", "(B)", "B." ...), or
3. the letter followed by a separator and that option's own text ("B. the mug", "B) mug"), or
4. exactly one option's text, case-insensitively ("the red mug").
Anything else is unparsable: a lowercase article is not a letter ("a cup" is not option A), two
letters ("A or B") are ambiguous, and a letter that is not an option (E with four options) is
wrong-format, not wrong.

Boxes: exactly four finite numbers in [0, 1000] (permille of width/height) with x1 < x2 and
y1 < y2, in any bracketing: "[x1, y1, x2, y2]", "(x1,y1),(x2,y2)", "<box>x1 y1 x2 y2</box>".
Points: exactly two finite numbers in [0, 1000]: "(x, y)", "[x, y]", "x=.., y=..".
Replies longer than MAX_CHARS are truncated before parsing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

MAX_CHARS = 8192
_NUM = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?)", re.I)
_PREFIX = re.compile(r"^(?:final answer|the answer is|answer|option|choice)\s*[:\-]?\s*", re.I)
_STRIP = " \t\r\n\"'`*[](){}<>.,;:!"


@dataclass(frozen=True)
class Parsed:
    """A parsed answer (letter, box or point) or the reason it could not be parsed."""

    value: Any
    error: str | None = None


def _clean(text: str) -> str:
    t = text[:MAX_CHARS].strip().strip(_STRIP)
    for _ in range(3):
        t2 = _PREFIX.sub("", t).strip(_STRIP)
        if t2 == t:
            break
        t = t2
    return t


def parse_choice(text: str, options: tuple[str, ...] | list[str]) -> Parsed:
    """The option letter a reply names, or an error."""
    letters = "ABCDEFGH"[: len(options)]
    t = _clean(text or "")
    if not t:
        return Parsed(None, "empty answer")
    if len(t) == 1 and t.upper() == t and t in "ABCDEFGH":
        return Parsed(t, None) if t in letters else Parsed(None, f"letter {t} is not an option")
    m = re.match(r"^([A-H])\s*[.):\-]\s*(.+)$", t, re.S)
    if m and m.group(1) in letters:
        rest = m.group(2).strip(_STRIP).lower()
        if rest == options[letters.index(m.group(1))].strip().lower():
            return Parsed(m.group(1), None)
        return Parsed(None, "letter and option text disagree")
    hits = [letters[i] for i, o in enumerate(options) if t.lower() == o.strip().lower()]
    if len(hits) == 1:
        return Parsed(hits[0], None)
    return Parsed(None, "not exactly one option letter or option text")


def _numbers(text: str) -> list[float] | None:
    vals = []
    for tok in _NUM.findall(text[:MAX_CHARS]):
        v = float(tok)
        if not math.isfinite(v):
            return None
        vals.append(v)
    return vals


def _permille(text: str, n: int) -> Parsed:
    """Exactly ``n`` finite numbers in [0, 1000], or an error."""
    nums = _numbers(text or "")
    if nums is None:
        return Parsed(None, "non-finite number")
    if len(nums) != n:
        return Parsed(None, f"expected {n} numbers, found {len(nums)}")
    if not all(0 <= v <= 1000 for v in nums):
        return Parsed(None, "coordinates outside [0, 1000]")
    return Parsed(nums, None)


def parse_box(text: str) -> Parsed:
    """A permille box [x1, y1, x2, y2], or an error."""
    p = _permille(text, 4)
    if p.error is None and not (p.value[0] < p.value[2] and p.value[1] < p.value[3]):
        return Parsed(None, "degenerate box (need x1 < x2 and y1 < y2)")
    return p


def parse_point(text: str) -> Parsed:
    """A permille point [x, y], or an error."""
    return _permille(text, 2)
