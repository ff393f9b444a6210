"""How much of a benchmark can be answered without the image, per question type.

``leakage(bench_dir)`` scores the text-only baselines (``prior``, fitted on the train split, and
the fixed ``blind``) on every multiple-choice item and measures how evenly the truth is spread
over letters and over answer values; ``print_leakage(bench_dir)`` prints it as a table. Answer
values are the truths with object names abstracted (``robostress.models.prior.normalise``):
'<1>' is the first object the question names, '<x>' one it does not name.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from robostress.models.base import Model, Request, create_model
from robostress.models.prior import normalise
from robostress.questions.item import LETTERS, Item


@dataclass(frozen=True)
class LeakRow:
    """Text-only accuracy and answer balance of one question type."""

    qtype: str
    n: int  # multiple-choice items
    scenes: int  # scenes they come from
    chance: float  # mean of 1 / number of options
    prior: float  # accuracy of the fitted text-only prior
    blind: float  # accuracy of the fixed-rule blind baseline
    letters: dict[str, float]  # share of items whose answer is each letter
    values: dict[str, float]  # share of items whose (normalised) truth is each value

    @property
    def letter_skew(self) -> float:
        """Largest distance of a letter's share from uniform (over the letters offered)."""
        k = max(len(self.letters), 1)
        return max(abs(v - 1 / k) for v in self.letters.values()) if self.letters else 0.0

    @property
    def value_skew(self) -> float:
        """Share of the most common truth value minus 1 / number of values seen."""
        return max(self.values.values()) - 1 / len(self.values) if self.values else 0.0


def truth_value(item: Item) -> str:
    """The item's truth with object names abstracted ('<1>', '<x>')."""
    text = normalise(item.question, [item.truth["option"]]).options[0]
    return re.sub(r"<x:[a-z]+>", "<x>", text)


def _accuracy(model: Model, items: Sequence[Item]) -> list[bool]:
    replies = model.generate([Request(id=i.item_id, prompt=i.prompt, item=i) for i in items])
    return [r.text.strip() == i.answer for r, i in zip(replies, items, strict=True)]


def leakage_rows(items: Iterable[Item], prior: Model | None = None, blind: Model | None = None) -> list[LeakRow]:
    """One row per question type of the multiple-choice ``items`` (see the module docstring)."""
    by_type: dict[str, list[Item]] = defaultdict(list)
    for it in items:
        if it.format == "mc" and it.answer is not None:
            by_type[it.qtype].append(it)
    prior = prior or create_model("prior")
    blind = blind or create_model("blind")
    rows = []
    for qtype, its in by_type.items():
        n = len(its)
        letters = Counter(i.answer for i in its)
        offered = LETTERS[: max(len(i.options) for i in its)]
        values = Counter(truth_value(i) for i in its)
        rows.append(LeakRow(qtype=qtype, n=n, scenes=len({i.scene_id for i in its}),
                            chance=sum(1 / len(i.options) for i in its) / n,
                            prior=sum(_accuracy(prior, its)) / n, blind=sum(_accuracy(blind, its)) / n,
                            letters={k: letters[k] / n for k in offered},
                            values={k: v / n for k, v in values.most_common()}))
    return rows


def leakage(bench_dir: Path | str, clean_only: bool = False) -> list[LeakRow]:
    """Rows of a built benchmark folder (all frames, or only the clean twins)."""
    from robostress.benchmark.load import Benchmark

    items = Benchmark(bench_dir).items
    return leakage_rows([i for i in items if i.severity == 0] if clean_only else items)


def format_rows(rows: Sequence[LeakRow]) -> str:
    """A markdown table: accuracies and skews in percent, the top truth values."""
    lines = ["| type | n | scenes | chance % | prior % | blind % | letters % | letter skew | top values % | value skew |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lets = " ".join(f"{k}{100 * v:.0f}" for k, v in r.letters.items())
        vals = ", ".join(f"{k[:24]} {100 * v:.0f}" for k, v in list(r.values.items())[:3])
        lines.append(f"| {r.qtype} | {r.n} | {r.scenes} | {100 * r.chance:.0f} | {100 * r.prior:.1f} | "
                     f"{100 * r.blind:.1f} | {lets} | {100 * r.letter_skew:.1f} | {vals} | {100 * r.value_skew:.1f} |")
    return "\n".join(lines)


def print_leakage(bench_dir: Path | str, clean_only: bool = False) -> list[LeakRow]:
    """Print the table for a benchmark folder and return its rows."""
    rows = leakage(bench_dir, clean_only)
    print(format_rows(rows))
    return rows
