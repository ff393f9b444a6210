"""``classical``: a weight-free vision baseline built from OpenCV colour and shape heuristics.

It really looks at the image (``classical_vision``: fixed HSV colour thresholds, a dominant-
colour background model, shape prototypes), so physical stress degrades it the way it degrades
perception. It reads only an item's ``qtype``, ``question`` and ``options`` -- never its truth
or answer. Objects are found by the colour and category words of the question ("the red mug");
one rule per question type, registered in ``RULES``:

* category / color / existence / count / upright: shape prototype of the named colour's blobs;
  the colour of an object named by a point: the option colour most pixels around it have;
* left_right: blob centres; front_behind: the lower base is nearer the camera; nearest: image
  distance between bases (a reference it cannot see, e.g. the gripper, falls back);
* clear / goal / on / next_action: stacking, i.e. a blob whose base lies on another's top;
* box: the named blob's bounding box; point: its innermost pixel; placement: the support-
  coloured pixel farthest from any foreground.

Fallbacks when a rule cannot answer (nothing of the named colour is visible, unknown question
type): option A, the box [0, 0, 1000, 1000], the point [500, 500].

This is the reference model of corruption error (docs/measures.md; the AlexNet of robostress).
"""

from __future__ import annotations

import json
import os
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from robostress.errors import ConfigError, DataError
from robostress.models.base import Model, Request, Response
from robostress.models.classical_vision import COLOURS, SHAPES, TIPPED, Blob, View, colour_mask
from robostress.questions.item import LETTERS, Item
from robostress.render.io import read_rgb
from robostress.scene.objects import CATEGORIES

VERSION = "c3"  # c3: colour of an object named by a point, read from the pixels there
VIEW_CACHE = 8  # images whose analysis is kept between requests
EXIST_COST = 4.0  # a blob this close to a category's prototype counts as one
FALLBACK = {"mc": "A", "box": "[0, 0, 1000, 1000]", "point": "[500, 500]"}
CATEGORY_WORDS = {**{c: c for c in CATEGORIES}, **{s.plural: c for c, s in CATEGORIES.items()}}
COLOUR_WORDS = {**{c: c for c in COLOURS}, "grey": "gray"}
Mention = tuple[str | None, str | None]  # (colour, category): 'the red mug', 'the red one', 'mugs'
Rule = Callable[[Item, View], "str | None"]
RULES: dict[str, Rule] = {}


def mentions(text: str) -> list[Mention]:
    """Objects a text names, in order; a colour word joins the category word (or 'one') after it."""
    words = re.findall(r"[a-z]+", text.lower())
    out: list[Mention] = []
    i = 0
    while i < len(words):
        col, cat = COLOUR_WORDS.get(words[i]), CATEGORY_WORDS.get(words[i])
        if col and i + 1 < len(words) and (words[i + 1] in CATEGORY_WORDS or words[i + 1] == "one"):
            out.append((col, CATEGORY_WORDS.get(words[i + 1])))
            i += 2
            continue
        # a bare category word names an object after an article or in the plural ("cans"),
        # not as a verb ("can you see")
        if cat and (words[i] != cat or (i > 0 and words[i - 1] in ("the", "a", "an"))):
            out.append((None, cat))
        elif col:
            out.append((col, None))
        i += 1
    return out


def rule(*qtypes: str) -> Callable[[Rule], Rule]:
    """Register the rule of question types; it returns an option text, a letter or an answer."""
    def deco(fn: Rule) -> Rule:
        for q in qtypes:
            RULES[q] = fn
        return fn
    return deco


def _named(view: View, text: str, k: int = 0) -> Blob | None:
    """The blob of the k-th coloured object named in ``text``."""
    m = [x for x in mentions(text) if x[0]]
    return view.find(*m[k]) if len(m) > k else None


def _stacked(top: Blob, under: Blob | None) -> bool:
    """Whether ``top`` seems to rest on ``under``: its base lies inside the upper part of
    ``under`` (the camera looks down, so a top face shows) and it is not much wider. An
    object merely behind ``under`` has its visible base on ``under``'s outline instead."""
    if under is None or top == under or top.w > 1.5 * under.w:
        return False
    return (under.x <= top.cx <= under.x + under.w and top.y < under.y
            and under.y + 0.08 * under.h <= top.bottom <= under.y + 0.6 * under.h)


@rule("category")
def _category(item: Item, view: View) -> str | None:
    col = next((c for c, _ in mentions(item.question) if c), None)
    pairs = [(b.cost(o), o) for b in (view.blobs(col)[:3] if col else []) for o in item.options]
    return min(pairs)[1] if pairs else None


POINT = re.compile(r"at the point \((\d{1,4}), (\d{1,4})\)")
PATCH = 2  # pixels each side of a named point that are read


def _patch(view: View, question: str) -> np.ndarray | None:
    """HSV pixels around the point a question names (permille of width and height), or None."""
    m = POINT.search(question)
    if m is None:
        return None
    x = min(view.width - 1, int(int(m.group(1)) / 1000 * view.width))
    y = min(view.height - 1, int(int(m.group(2)) / 1000 * view.height))
    return view.hsv[max(0, y - PATCH): y + PATCH + 1, max(0, x - PATCH): x + PATCH + 1]


@rule("color")
def _colour(item: Item, view: View) -> str | None:
    patch = _patch(view, item.question)
    if patch is not None:  # 'the object at the point (x, y)': the option colour most of its pixels have
        hits = [(int(colour_mask(patch, COLOUR_WORDS.get(o, o)).sum()), o) for o in item.options]
        best = max(hits)
        return best[1] if best[0] > 0 else None
    cat = next((c for _, c in mentions(item.question) if c), None) or "block"
    pairs = [(min(b.cost(cat), b.cost(cat, True)), o)
             for o in item.options for b in view.blobs(COLOUR_WORDS.get(o, o))[:3]]
    return min(pairs)[1] if pairs else None


@rule("existence")
def _exists(item: Item, view: View) -> str | None:
    col, cat = (mentions(item.question) or [(None, None)])[0]
    b = view.find(col, cat) if col and cat else None
    return "yes" if b is not None and min(b.cost(cat), b.cost(cat, True)) < EXIST_COST else "no"  # type: ignore[arg-type]


@rule("upright")
def _upright(item: Item, view: View) -> str | None:
    m = [x for x in mentions(item.question) if x[0]]
    cat = m[0][1] if m else None
    b = view.find(*m[0]) if m else None
    if b is None or cat not in TIPPED:
        return None
    return "lying on its side" if b.h / b.w < (SHAPES[cat][0] * TIPPED[cat]) ** 0.5 else "standing upright"


@rule("clear")
def _clear(item: Item, view: View) -> str | None:
    b = _named(view, item.question)
    return None if b is None else ("yes" if any(_stacked(o, b) for _, o in view.all_blobs()) else "no")


@rule("goal")
def _goal(item: Item, view: View) -> str | None:
    b = _named(view, item.question)
    return None if b is None else ("no" if any(_stacked(b, o) for _, o in view.all_blobs()) else "yes")


@rule("on")
def _on(item: Item, view: View) -> str | None:
    b = _named(view, item.question)
    if b is None:
        return None
    for o in item.options:
        under = _named(view, o)
        if under is not None and _stacked(b, under):
            return o
    return next((o for o in item.options if not any(c for c, _ in mentions(o))), None)


@rule("next_action")
def _next(item: Item, view: View) -> str | None:
    said = re.search(r"put (the [a-z ]+?) on (the [a-z ]+?)\.", item.question)
    a, b = _named(view, item.question, 0), _named(view, item.question, 1)
    if said is None or a is None or b is None:
        return None
    if _stacked(a, b):
        return "the task is already done"
    blobs = [o for _, o in view.all_blobs()]
    for who, blob in ((said.group(1), a), (said.group(2), b)):
        if any(_stacked(o, blob) for o in blobs):
            return f"pick up the object on top of {who} and set it aside"
    return f"pick up {said.group(1)}"


@rule("left_right")
def _left_right(item: Item, view: View) -> str | None:
    a, b = _named(view, item.question, 0), _named(view, item.question, 1)
    return None if a is None or b is None else ("to the left" if a.cx < b.cx else "to the right")


@rule("front_behind", "nearest")
def _closest(item: Item, view: View) -> str | None:
    ref = None
    if item.qtype == "nearest":
        ref = _named(view, item.question.split("closest to", 1)[-1])
        if ref is None:
            return None
    scored = []
    for o in item.options:
        blob = _named(view, o)
        if blob is not None and blob != ref:
            key = -blob.bottom if ref is None else float(np.hypot(blob.cx - ref.cx, blob.bottom - ref.bottom))
            scored.append((key, o))
    return min(scored)[1] if scored else None


@rule("count")
def _count(item: Item, view: View) -> str | None:
    cat = next((c for _, c in mentions(item.question) if c), None)
    nums = [o for o in item.options if o.isdigit()]
    if cat is None or not nums:
        return None
    n = sum(1 for _, b in view.all_blobs() if b.category() == cat)
    return min(nums, key=lambda o: abs(int(o) - n))


@rule("box", "point")
def _ground(item: Item, view: View) -> str | None:
    b = _named(view, item.question)
    if b is None:
        return None
    if item.format == "point":
        return json.dumps(view.permille(b.inner[0] + 0.5, b.inner[1] + 0.5))
    return json.dumps(view.permille(b.x, b.y) + view.permille(b.x + b.w, b.y + b.h))


@rule("placement")
def _placement(item: Item, view: View) -> str | None:
    """The support is the colour dominating the lower middle of the view."""
    h, w = view.height, view.width
    hsv = view.hsv.astype(np.int32)
    mode = np.median(hsv[h // 2:, w // 4: 3 * w // 4].reshape(-1, 3), axis=0)
    near = (np.abs(hsv - mode) < np.array([8, 40, 40])).all(-1)
    busy = cv2.dilate(view.foreground.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    dist = cv2.distanceTransform(np.pad((near & ~busy).astype(np.uint8), 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return json.dumps(view.permille(x + 0.5, y + 0.5))


def answer(item: Item, view: View) -> str:
    """The heuristic answer to one item, or the format's fallback."""
    fn = RULES.get(item.qtype)
    got = fn(item, view) if fn else None
    if got is None:
        return FALLBACK[item.format]
    if item.format != "mc":
        return got
    if got in LETTERS[: len(item.options)]:
        return got
    return LETTERS[item.options.index(got)] if got in item.options else FALLBACK["mc"]


class Classical(Model):
    """OpenCV heuristics answering robostress questions from pixels (deterministic)."""

    name = "classical"
    reads_one_image = True

    def __init__(self, seed: int = 0, **unused: Any) -> None:
        if unused:
            raise ConfigError(f"classical: unknown option(s) {sorted(unused)}")
        self.seed = int(seed)
        self._views: OrderedDict[tuple[str, int, int], View] = OrderedDict()

    def describe(self) -> dict[str, Any]:
        """Name, seed (unused: nothing is drawn at random) and version."""
        return {"backend": self.name, "seed": self.seed, "version": VERSION}

    def answer(self, item: Item, rgb: np.ndarray) -> str:
        """The answer to one item from an RGB image (uint8, H x W x 3)."""
        return answer(item, View(rgb))

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """Answer each request from its first image; an unreadable image gives an error reply."""
        out = []
        for r in requests:
            if r.item is None:
                raise ConfigError("classical needs the item in each request (question type and "
                                  "options); run it through the evaluation runner")
            if not r.images:
                out.append(Response(text="", error="classical needs an image"))
                continue
            try:
                view = self._view(r.images[0])
            except DataError as e:
                out.append(Response(text="", error=str(e)))
                continue
            out.append(Response(text=answer(r.item, view)))
        return out

    def _view(self, path: str) -> View:
        """The view of an image file; the last few are kept, since items share frames."""
        try:
            st = os.stat(path)
        except OSError as e:
            raise DataError(f"cannot read image {path}: {e.strerror}") from e
        key = (path, st.st_mtime_ns, st.st_size)
        if key not in self._views:
            self._views[key] = View(read_rgb(Path(path)))
            while len(self._views) > VIEW_CACHE:
                self._views.popitem(last=False)
        return self._views[key]
