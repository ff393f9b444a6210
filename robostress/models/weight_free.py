"""What the weight-free baselines share (``baselines``: oracle, random, blind; ``prior``): one
answer per request, computed from the item the request carries, and permille numbers as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from robostress.errors import ConfigError
from robostress.models.base import Model, Request, Response
from robostress.questions.item import Item

BASELINE_VERSION = "b1"


def _item(r: Request) -> Item:
    if r.item is None:
        raise ConfigError("weight-free baselines need the item in each request (use the runner)")
    return r.item


def permille_json(values: Sequence[float]) -> str:
    """Permille numbers as a JSON list: integers stay integers, others keep 3 decimals (so a
    truth box is never rounded into a degenerate one, nor a truth point onto another pixel)."""
    out: list[float | int] = []
    for v in values:
        r = round(float(v), 3)
        out.append(int(r) if r.is_integer() else r)
    return json.dumps(out)


class WeightFree(Model):
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
