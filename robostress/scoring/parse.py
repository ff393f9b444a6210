"""Strict answer parsing. Model output is untrusted text: size-bounded, matched by regular
expressions only, never evaluated.

Every reply is first cut to its first ``MAX_BYTES`` bytes (UTF-8), so that a runaway reply
costs the same as a short one and text after the cut can never change the answer.

Multiple choice (options lettered A, B, ... in order; "option letters" are those in use):

1. *Cleaning.* Surrounding whitespace, quotes, brackets, asterisks and punctuation are
   stripped, and so is a leading "answer:", "the answer is", "the correct answer is",
   "final answer:", "option" or "choice" (repeatedly, so "**Answer:** (C)." gives "C").
2. *Option text.* If the cleaned reply equals exactly one option's text (case-insensitively,
   inner whitespace collapsed), that option is the answer ("The Table" -> the table's letter).
3. *Lone letter.* A cleaned reply of one letter is that letter in either case ("b" -> B); a
   letter beyond the options ("E" of four) is an error, not a wrong answer.
4. *Letter token.* Otherwise the reply must contain exactly one distinct standalone capital
   letter A-H (not touching other letters or digits): "I think it's B because ..." -> B.
   A capital "A" that opens a sentence and is followed by a lowercase word other than a verb
   or conjunction ("A red mug is ...") is the article, not a letter; a lowercase "a" never is
   a letter inside a sentence ("a cup" is not option A). Two different letters ("A or B")
   are ambiguous. If the rest of the reply is exactly another option's text ("B) the red mug"
   when the red mug is A) the reply contradicts itself and is unparsable.

Boxes: exactly four finite numbers, each in [0, 1000] (permille of width and height), read as
x1, y1, x2, y2 with x1 < x2 and y1 < y2, in any bracketing: "[x1, y1, x2, y2]",
"(x1,y1),(x2,y2)", "<box>x1 y1 x2 y2</box>", "x1=.., y1=.., x2=.., y2=..".
Points: exactly two finite numbers in [0, 1000]: "(x, y)", "[x, y]", "x=.., y=..".
A number is a decimal literal (sign, fraction and exponent allowed) that does not touch a
letter, digit or underscore, so the labels in "x1=" or "2nd" are not numbers. NaN or infinity
anywhere, a value outside [0, 1000], a degenerate box or the wrong count is a parse error.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from robostress.questions.item import LETTERS

MAX_BYTES = 8192
_WRAP = " \t\r\n\"'`*_[](){}<>.,;:!?"
_PREFIX = re.compile(r"^(?:(?:my |the )?final answer|the (?:correct |right )?answer(?: is)?|answer"
                     r"|option|choice)\b\s*[:\-=]?\s*", re.I)
_LETTER = re.compile(r"(?<![A-Za-z0-9])([A-H])(?![A-Za-z0-9])")
# words that cannot follow the article "A": a capital A before them is a letter ("A is right")
_NOT_NOUN = frozenset("is was would should could seems looks appears and or because since as "
                      "for fits matches".split())
_SENTENCE_END = ".!?:;\n"
_NUM = re.compile(r"(?<![\w.])[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?!\w)")
_NONFINITE = re.compile(r"(?<!\w)[-+]?(?:nan|inf(?:inity)?)(?!\w)", re.I)


@dataclass(frozen=True)
class Parsed:
    """A parsed answer (letter, box or point) or the reason it could not be parsed."""

    value: Any
    error: str | None = None


def bound(text: str | None) -> str:
    """The reply cut to its first MAX_BYTES bytes of UTF-8 (a cut character is dropped)."""
    text = text or ""
    if len(text) * 4 <= MAX_BYTES:  # fast path: cannot exceed the bound
        return text
    return text.encode("utf-8", "replace")[:MAX_BYTES].decode("utf-8", "ignore")


def _clean(text: str) -> str:
    t = text.strip(_WRAP)
    while True:
        t2 = _PREFIX.sub("", t).strip(_WRAP)
        if t2 == t:
            return t
        t = t2


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _is_article(t: str, m: re.Match[str]) -> bool:
    """Whether the capital A of match ``m`` is the article opening a sentence."""
    if m.group(1) != "A" or t[:m.start()].rstrip(" \t\"'*(")[-1:] not in ("", *_SENTENCE_END):
        return False
    nxt = re.match(r"\s+([a-z]+)", t[m.end():])
    return nxt is not None and nxt.group(1) not in _NOT_NOUN


def parse_choice(text: str | None, options: tuple[str, ...] | list[str]) -> Parsed:
    """The option letter a reply names, or why it names none (see the module rules)."""
    letters = LETTERS[: len(options)]
    t = _clean(bound(text))
    if not t:
        return Parsed(None, "empty answer")
    hits = [letters[i] for i, o in enumerate(options) if _norm(t) == _norm(o)]
    if len(hits) == 1:
        return Parsed(hits[0])
    if hits:
        return Parsed(None, "the reply matches several identical options")
    if len(t) == 1 and t.upper() in LETTERS:
        t = t.upper()
    found = [m for m in _LETTER.finditer(t) if not _is_article(t, m)]
    named = sorted({m.group(1) for m in found})
    if not named:
        return Parsed(None, "no option letter or option text")
    if len(named) > 1:
        return Parsed(None, f"several letters ({', '.join(named)})")
    letter = named[0]
    if letter not in letters:
        return Parsed(None, f"letter {letter} is not an option (options {letters[0]}-{letters[-1]})")
    rest = _norm(_LETTER.sub(" ", t).strip(_WRAP + "-"))
    other = [x for x, o in zip(letters, options, strict=False) if rest == _norm(o) and x != letter]
    if other:
        return Parsed(None, f"letter {letter} and the text of option {other[0]} disagree")
    return Parsed(letter)


def _permille(text: str | None, n: int) -> Parsed:
    """Exactly ``n`` finite numbers in [0, 1000], or an error."""
    t = bound(text)
    if _NONFINITE.search(t):
        return Parsed(None, "non-finite number (nan or inf)")
    nums = [float(x) for x in _NUM.findall(t)]
    if not all(math.isfinite(v) for v in nums):
        return Parsed(None, "number too large")
    if len(nums) != n:
        return Parsed(None, f"expected {n} numbers, found {len(nums)}")
    if not all(0.0 <= v <= 1000.0 for v in nums):
        return Parsed(None, "coordinates outside [0, 1000]")
    return Parsed(nums)


def parse_box(text: str | None) -> Parsed:
    """A permille box [x1, y1, x2, y2] with x1 < x2 and y1 < y2, or an error."""
    p = _permille(text, 4)
    if p.error is None and not (p.value[0] < p.value[2] and p.value[1] < p.value[3]):
        return Parsed(None, "degenerate box (need x1 < x2 and y1 < y2)")
    return p


def parse_point(text: str | None) -> Parsed:
    """A permille point [x, y], or an error."""
    return _permille(text, 2)
