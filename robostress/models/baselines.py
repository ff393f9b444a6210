"""Weight-free baselines: oracle (reads the truth), random (chance), blind (text only); the
text-only ``prior`` (fitted on the train split) lives in ``robostress.models.prior``.

They run anywhere, instantly and deterministically, and anchor every report: the oracle must
score 100% on every valid item, random must sit on the chance line, and blind measures what
language priors alone achieve.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from robostress.errors import ConfigError
from robostress.models.base import MODELS, Model, Request, Response
from robostress.questions.item import LETTERS, Item
from robostress.scoring.chance import random_boxes, random_letter, random_points
from robostress.seeding import rng

BASELINE_VERSION = "b1"


def _item(r: Request) -> Item:
    if r.item is None:
        raise ConfigError("weight-free baselines need the item in each request (use the runner)")
    return r.item


def _fmt(values: Sequence[float]) -> str:
    """Permille numbers as a JSON list: integers stay integers, others keep 3 decimals (so a
    truth box is never rounded into a degenerate one, nor a truth point onto another pixel)."""
    out: list[float | int] = []
    for v in values:
        r = round(float(v), 3)
        out.append(int(r) if r.is_integer() else r)
    return json.dumps(out)


class _Baseline(Model):
    """Shared plumbing: one answer per request, computed from the item."""

    def __init__(self, seed: int = 0, **unused: Any) -> None:
        if unused:
            raise ConfigError(f"{self.name}: unknown option(s) {sorted(unused)}")
        self.seed = int(seed)

    def answer(self, item: Item, request: Request) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """Answer every request; an item without the truth a baseline needs gets an error reply."""
        out = []
        for r in requests:
            item = _item(r)
            try:
                out.append(Response(text=self.answer(item, r)))
            except (KeyError, TypeError, ValueError) as e:
                out.append(Response(text="", error=f"{self.name}: item {item.item_id} lacks usable truth ({e!r})"))
        return out

    def describe(self) -> dict[str, Any]:
        """Name, seed and version."""
        return {"backend": self.name, "seed": self.seed, "version": BASELINE_VERSION}


class Oracle(_Baseline):
    """Answers the truth: a sanity check of questions, parsing and scoring."""

    name = "oracle"

    def answer(self, item: Item, request: Request) -> str:
        """The correct letter, box or point."""
        if item.format == "mc":
            if item.answer is None or item.answer not in LETTERS[: len(item.options)]:
                raise ValueError(f"answer {item.answer!r} is not an option letter")
            return str(item.answer)
        if item.format == "box":
            return _fmt(item.truth["box"])
        return _fmt(item.truth["point"])


class Random(_Baseline):
    """Uniform random answers, seeded per item (independent of batching and order). They come
    from the samplers of ``robostress.scoring.chance``, which also compute every item's chance."""

    name = "random"

    def answer(self, item: Item, request: Request) -> str:
        """A random letter, box or point."""
        g = rng(self.seed, "random", item.item_id)
        if item.format == "mc":
            return random_letter(g, len(item.options))
        if item.format == "box":
            return _fmt(random_boxes(g, 1)[0])
        return _fmt(random_points(g, 1)[0])


# Options a text-only model tends to prefer (language priors about tidy, static tabletops),
# tried in order; the first option matching the first pattern that matches anything wins:
# "no" (nothing unusual), "standing upright", resting on the furniture, the direct action,
# "to the left" (reading order), a count of "1".
BLIND_PRIORS = (r"^no$", r"^standing upright$", r"^the (table|counter|shelf)$", r"^pick up the \w+ \w+$",
                r"^to the left$", r"^1$")


class Blind(_Baseline):
    """Answers from the question text alone: a fixed prior over option texts, never the image.

    Multiple choice: the option named by ``BLIND_PRIORS``, else the alphabetically first
    option text. Boxes: the central box [350, 350, 650, 650]. Points: [500, 700], low in the
    middle, where the support usually is in a head-camera view.
    """

    name = "blind"

    def answer(self, item: Item, request: Request) -> str:
        """The prior's favourite option, a central box, or a point low in the middle."""
        if item.format == "mc":
            for pat in BLIND_PRIORS:
                for i, o in enumerate(item.options):
                    if re.match(pat, o):
                        return LETTERS[i]
            return LETTERS[min(range(len(item.options)), key=lambda i: item.options[i])]
        if item.format == "box":
            return _fmt([350, 350, 650, 650])
        return _fmt([500, 700])


for _cls in (Oracle, Random, Blind):
    MODELS.add(_cls.name, _cls)


def _classical(**kw: Any) -> Model:
    from robostress.models.classical import Classical

    return Classical(**kw)


MODELS.add("classical", _classical)


def _prior(**kw: Any) -> Model:
    from robostress.models.prior import Prior

    return Prior(**kw)


MODELS.add("prior", _prior)
