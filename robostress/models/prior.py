"""``prior``: the strongest text-only baseline we know how to fit, a measure of answer leakage.

It never sees an image. It is fitted on the items of the disjoint *train* split and stored as a
small JSON table (``weights/prior.json``; no pickle). Each multiple-choice option is scored by
three tables, most specific first, and the best option wins (ties go to the next table):

1. ``set``: how often each normalised option was the truth, given the question type, the
   normalised question template and the normalised option set (needs ``MIN_SUPPORT`` items);
2. ``option``: how often a normalised option text was the truth when offered (per type);
3. ``letter``: how often each letter was correct (per type and option count).

Normalising replaces object names ('the red mug', 'the juice carton') by their order of mention
in the question (``<1>``, ``<2>``, ...); a name that the question does not mention becomes
``<x:mug>`` (its category kept, its colour dropped). Boxes and points answer the mean truth of the train split.
If this model beats chance on a question type, that type leaks its answer through its text.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robostress.errors import ConfigError, DataError
from robostress.models.base import Request
from robostress.models.reader_text import object_names
from robostress.models.weight_free import WeightFree, permille_json
from robostress.questions.item import LETTERS, Item

PRIOR_VERSION = "t2"  # t2: names of real objects (with or without a colour) abstracted too
DEFAULT_TABLE = Path(__file__).parent / "weights" / "prior.json"
MIN_SUPPORT = 8  # items a (type, template, option set) key needs before its counts are trusted
SEP = " | "


@functools.cache
def _name_pattern() -> re.Pattern[str]:
    """'the <colour> <category>' or 'the <category>' (real objects of no single colour), over the
    procedural and the real-asset categories and colours of every family (``reader_text.object_names``)."""
    names, colours = object_names()
    cats = "|".join(map(re.escape, names))
    return re.compile(rf"\bthe (?:(?:{'|'.join(map(re.escape, colours))}) )?({cats})\b")


@dataclass(frozen=True)
class Normalised:
    """An item's text with object names abstracted away."""

    template: str  # the question with names replaced by <1>, <2>, ... in order of mention
    options: tuple[str, ...]  # option texts, names replaced the same way (<x:category> if unmentioned)


def normalise(question: str, options: Iterable[str]) -> Normalised:
    """Abstract object names out of a question and its options (see the module docstring)."""
    pat = _name_pattern()
    slots = {m.group(0): f"<{i + 1}>" for i, m in enumerate(_first_mentions(pat, question))}
    template = pat.sub(lambda m: slots[m.group(0)], question)
    opts = tuple(pat.sub(lambda m: slots.get(m.group(0), f"<x:{m.group(1)}>"), o) for o in options)
    return Normalised(template, opts)


def _first_mentions(pat: re.Pattern[str], text: str) -> list[re.Match[str]]:
    seen: dict[str, re.Match[str]] = {}
    for m in pat.finditer(text):
        seen.setdefault(m.group(0), m)
    return list(seen.values())


def _keys(item: Item) -> tuple[str, list[str], list[str]]:
    """(set key, per-option keys, per-option letter keys) of a multiple-choice item."""
    n = normalise(item.question, item.options)
    set_key = SEP.join((item.qtype, n.template, *sorted(n.options)))
    return (set_key, [SEP.join((item.qtype, o)) for o in n.options],
            [SEP.join((item.qtype, str(len(item.options)), LETTERS[i])) for i in range(len(item.options))])


def fit(items: Iterable[Item], source: dict[str, Any] | None = None) -> dict[str, Any]:
    """The prior's tables, counted over ``items`` (train-split items; any frames)."""
    sets: dict[str, Counter[str]] = defaultdict(Counter)
    options: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # key -> [times right, times offered]
    letters: dict[str, int] = Counter()
    geo: dict[str, list[list[float]]] = defaultdict(list)
    n_items = 0
    for it in items:
        n_items += 1
        if it.format != "mc":
            geo[it.format].append(list(it.truth["box" if it.format == "box" else "point"]))
            continue
        if it.answer is None:
            continue
        right = LETTERS.index(it.answer)
        set_key, opt_keys, letter_keys = _keys(it)
        sets[set_key][normalise(it.question, it.options).options[right]] += 1
        for i, k in enumerate(opt_keys):
            options[k][0] += int(i == right)
            options[k][1] += 1
        letters[letter_keys[right]] += 1
    mean = {f: [round(sum(v[j] for v in vs) / len(vs), 1) for j in range(len(vs[0]))] for f, vs in geo.items() if vs}
    return {"version": PRIOR_VERSION, "source": source or {}, "items": n_items, "min_support": MIN_SUPPORT,
            "set": {k: dict(sorted(c.items())) for k, c in sorted(sets.items()) if sum(c.values()) >= MIN_SUPPORT},
            "option": dict(sorted(options.items())), "letter": dict(sorted(letters.items())), "geometry": mean}


def save(table: dict[str, Any], path: Path) -> None:
    """Write a fitted table as JSON (sorted keys: a refit of the same items is byte-identical)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(table, indent=0, sort_keys=True) + "\n")


def load(path: Path) -> dict[str, Any]:
    """Read a fitted table; DataError if it is missing or of another version."""
    try:
        table = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise DataError(f"cannot read the prior table {path}: {e}; refit it with "
                        "robostress.models.prior_fit.fit_on_train()") from None
    if table.get("version") != PRIOR_VERSION:
        raise DataError(f"prior table {path} is version {table.get('version')!r}; this code reads "
                        f"{PRIOR_VERSION!r}: refit it with robostress.models.prior_fit.fit_on_train()")
    return table


class Prior(WeightFree):
    """Text-only answers from answer priors fitted on the train split (see the module docstring)."""

    name = "prior"
    reads_one_image = True

    def __init__(self, seed: int = 0, table: str | None = None, **unused: Any) -> None:
        super().__init__(seed, **unused)
        self.path = Path(table) if table else DEFAULT_TABLE
        try:
            self.table = load(self.path)
        except DataError as e:  # a config points at a bad table: a user error
            raise ConfigError(str(e)) from None

    def scores(self, item: Item) -> list[tuple[float, float, float]]:
        """Per option: (set rate, option rate, letter rate), compared lexicographically."""
        set_key, opt_keys, letter_keys = _keys(item)
        counts = self.table["set"].get(set_key, {})
        total = sum(counts.values()) or 1
        norm = normalise(item.question, item.options).options
        out = []
        for i in range(len(item.options)):
            right, offered = self.table["option"].get(opt_keys[i], [0, 0])
            out.append((counts.get(norm[i], 0) / total, (right + 1) / (offered + len(item.options)),
                        float(self.table["letter"].get(letter_keys[i], 0))))
        return out

    def answer(self, item: Item, request: Request) -> str:
        """The best-scored option letter, or the train split's mean box or point."""
        if item.format == "mc":
            s = self.scores(item)
            return LETTERS[max(range(len(s)), key=lambda i: (s[i], -i))]
        mean = self.table["geometry"].get(item.format)
        if mean is None:
            raise ValueError(f"the prior table has no {item.format} answers")
        return permille_json(mean)

    def describe(self) -> dict[str, Any]:
        """Name, version and the identity of the fitted table."""
        return {**super().describe(), "prior_version": PRIOR_VERSION, "source": self.table.get("source", {}),
                "table_items": self.table.get("items")}
