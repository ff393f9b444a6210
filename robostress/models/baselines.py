"""Weight-free baselines: oracle (reads the truth), random (chance), blind (text only).

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
from robostress.seeding import rng

BASELINE_VERSION = "b1"


def _item(r: Request) -> Item:
    if r.item is None:
        raise ConfigError("weight-free baselines need the item in each request (use the runner)")
    return r.item


def _fmt(values: Sequence[float]) -> str:
    return json.dumps([int(round(v)) for v in values])


class _Baseline(Model):
    """Shared plumbing: one answer per request, computed from the item."""

    def __init__(self, seed: int = 0, **unused: Any) -> None:
        if unused:
            raise ConfigError(f"{self.name}: unknown option(s) {sorted(unused)}")
        self.seed = int(seed)

    def answer(self, item: Item, request: Request) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """Answer every request."""
        return [Response(text=self.answer(_item(r), r)) for r in requests]

    def describe(self) -> dict[str, Any]:
        """Name, seed and version."""
        return {"backend": self.name, "seed": self.seed, "version": BASELINE_VERSION}


class Oracle(_Baseline):
    """Answers the truth: a sanity check of questions, parsing and scoring."""

    name = "oracle"

    def answer(self, item: Item, request: Request) -> str:
        """The correct letter, box or point."""
        if item.format == "mc":
            return str(item.answer)
        if item.format == "box":
            return _fmt(item.truth["box"])
        return _fmt(item.truth["point"])


class Random(_Baseline):
    """Uniform random answers, seeded per item (independent of batching and order)."""

    name = "random"

    def answer(self, item: Item, request: Request) -> str:
        """A random letter, box or point."""
        g = rng(self.seed, "random", item.item_id)
        if item.format == "mc":
            return LETTERS[int(g.integers(len(item.options)))]
        if item.format == "box":
            x = sorted(g.uniform(0, 1000, 2))
            y = sorted(g.uniform(0, 1000, 2))
            return _fmt([x[0], y[0], max(x[1], x[0] + 1), max(y[1], y[0] + 1)])
        return _fmt(g.uniform(0, 1000, 2))


# Options a text-only model tends to prefer (language priors); the first match wins.
BLIND_PRIORS = (r"^no$", r"^standing upright$", r"^the (table|counter|shelf)$", r"^pick up the \w+ \w+$",
                r"^to the left$", r"^1$")


class Blind(_Baseline):
    """Answers from the question text alone: a fixed prior over option texts, never the image."""

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
