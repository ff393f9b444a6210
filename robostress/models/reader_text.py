"""What ``reader`` reads from an item's text: words, the object names it mentions, a point it names.

Pure Python (no torch), shared by training and inference. The question's numbers that name a point
("at the point (361, 377) in permille") become a numeric feature, not words, so the network can
look there; object names ("the green ketchup bottle", "ramekins") become mention spans that the
network grounds in the image. Only the question, the options, the question type and the format
are read, never an item's truth or answer.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from robostress.catalog import catalog_names
from robostress.core.colour import PALETTE
from robostress.errors import ConfigError
from robostress.scene.assets import full_catalog
from robostress.scene.family import load_family
from robostress.scene.objects import CATEGORIES

PAD, UNK = "<pad>", "<unk>"
MAX_MENTIONS = 3  # object names read from a question or an option (ordering names three)
MAX_OPTIONS = 8
_POINT = re.compile(r"\((\d+(?:\.\d+)?),\s*(\d+(?:\.\d+)?)\)")
_WORD = re.compile(r"[a-z]+|\d+")


@functools.cache
def object_names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(categories, colours) that name an object in an item's text, longest first (what the text
    readers here and ``robostress.models.prior`` abstract): the procedural categories and every
    family's real ones (the object catalog's and the extra catalog's: ``full_catalog``), less a
    category that is also the kind of a support in some family ('shelf', kitchen_shelf's upper
    support and household's wooden shelves: 'the shelf' is read as a support, as it was before
    the extra catalog), and the palette and catalog colours."""
    real = full_catalog()
    supports: set[str] = set()
    for name in catalog_names("scenes"):
        try:
            supports |= {s.kind for s in load_family(name).supports}
        except ConfigError:  # a broken family file is reported where it is used, not here
            continue
    cats = sorted({*CATEGORIES, *real.categories} - supports, key=len, reverse=True)
    colours = sorted({*PALETTE, *(a.color for a in real.assets.values() if a.color)}, key=len, reverse=True)
    return tuple(cats), tuple(colours)


@functools.cache
def _mention_pattern() -> re.Pattern[str]:
    """An article (or 'many'), an optional colour, then a category (``object_names``), singular or
    plural ('many ramekins', 'many desk caddies'); the article keeps verbs such as 'can' from
    reading as objects."""
    names, colours = object_names()
    cats = sorted({*names, *(p for p, c in _irregular().items() if c in names)}, key=len, reverse=True)
    c = "|".join(map(re.escape, colours))
    k = "|".join(map(re.escape, cats))
    return re.compile(rf"\b(?:the|a|an|many) (?:({c}) )?({k})(?:es|s)?\b")


@functools.cache
def _irregular() -> dict[str, str]:
    """Plurals that are not the category plus 's' or 'es' ('shelves', 'desk caddies': the extra
    catalog's; none of the object catalog's), each to its category."""
    real = full_catalog().categories
    return {i.plural: c for c, i in real.items() if i.plural not in (c + "s", c + "es")}


def words(text: str) -> list[str]:
    """Lower-case words and integers of a text."""
    return _WORD.findall(text.lower())


def mentions(text: str) -> list[list[str]]:
    """Object names a text mentions, in order, as word lists ('green ketchup bottle'), at most
    ``MAX_MENTIONS``."""
    out = []
    for m in _mention_pattern().finditer(text.lower()):
        colour, cat = m.groups()
        out.append(words(" ".join(g for g in (colour, _irregular().get(cat, cat)) if g)))
    return out[:MAX_MENTIONS]


@dataclass(frozen=True)
class ItemText:
    """The text features of one item."""

    qtype: str
    format: str
    words: tuple[str, ...]  # the question's words, a named point replaced by '<pt>'
    point: tuple[float, float] | None  # a point the question names, in [0, 1] of width and height
    mentions: tuple[tuple[str, ...], ...]  # object names in the question
    options: tuple[tuple[str, ...], ...]  # each option's words
    option_mentions: tuple[tuple[tuple[str, ...], ...], ...]  # object names in each option


def read_item(qtype: str, fmt: str, question: str, options: Iterable[str]) -> ItemText:
    """The text features of an item (its question type, format, question and option texts)."""
    m = _POINT.search(question)
    point = (float(m.group(1)) / 1000.0, float(m.group(2)) / 1000.0) if m else None
    q = _POINT.sub(" pt ", question)
    opts = list(options)[:MAX_OPTIONS]
    return ItemText(qtype, fmt, tuple("<pt>" if w == "pt" else w for w in words(q)), point,
                    tuple(tuple(x) for x in mentions(q)), tuple(tuple(words(o)) for o in opts),
                    tuple(tuple(tuple(x) for x in mentions(o)) for o in opts))


def build_vocab(texts: Iterable[ItemText], names: Iterable[Iterable[str]] = (),
                qtypes: Iterable[str] = ()) -> dict[str, list[str]]:
    """Word and question-type vocabularies of training texts (sorted: a rebuild is identical)."""
    c: Counter[str] = Counter()
    types: set[str] = set(qtypes)
    for t in texts:
        types.add(t.qtype)
        c.update(t.words)
        for o in t.options:
            c.update(o)
    for n in names:
        c.update(n)
    return {"words": [PAD, UNK, *sorted(w for w in c if w not in (PAD, UNK))], "qtypes": sorted(types)}


class Vocab:
    """Maps words and question types to ids (unknown ones to ``<unk>`` / the last type id)."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.words = list(table["words"])
        self.qtypes = list(table["qtypes"])
        self._w = {w: i for i, w in enumerate(self.words)}
        self._q = {q: i for i, q in enumerate(self.qtypes)}

    def ids(self, ws: Iterable[str]) -> list[int]:
        """Word ids (1 = unknown)."""
        return [self._w.get(w, 1) for w in ws]

    def qtype(self, q: str) -> int:
        """Question-type id; an unknown type gets the extra id ``len(qtypes)``."""
        return self._q.get(q, len(self.qtypes))
