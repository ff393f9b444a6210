"""How much of a benchmark can be answered without the image, per question type.

``leakage(bench_dir)`` scores the text-only baselines (``prior``, fitted on the train split, and
the fixed ``blind``) on every multiple-choice item and measures how evenly the truth is spread
over letters and over answer values; ``format_rows(leakage(bench_dir))`` is it as a table. Answer
values are the truths with object names abstracted (``robostress.models.prior.normalise``):
'<1>' is the first object the question names, '<x>' one it does not name; an object's kind as
the answer of 'what is X resting on or in?' counts as one value, 'an object' (against 'the table').

``sampled_leakage()`` measures the same without a built benchmark: it samples scenes of a family
for a train split (the train preset's seed) and a held-out split, frames them with the box
rasteriser (``robostress.questions.boxes``: exact geometry, no Mitsuba, well under a second a
scene), fits a fresh prior on the train items and scores it on the held-out clean twins. The
README's leakage table is its output. With ``learner=logreg`` the same train and held-out items
also fit and score a learned text-only model (``robostress.evaluate.text_learner``: logistic
regression on the words of question and options); ``learner=reader_blind`` scores the text-only
twin of the reader (a network trained on the train split with its image zeroed), ``learner=all``
both: the strongest text-only attackers here::

    robostress leakage train_scenes=150 test_scenes=150     # lab_tabletop
    robostress leakage train_scenes=700 test_scenes=400 learner=logreg
    robostress leakage benchmark_dir=benchmarks/mini         # a built benchmark
    robostress leakage benchmark_dir=benchmarks/lab100 clean_only=true learner=all train_scenes=700
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from robostress.benchmark.load import Benchmark
from robostress.errors import ConfigError
from robostress.evaluate.text_learner import LearnedRow, multiple_choice, scored_rows
from robostress.models.base import Model, Request, create_model
from robostress.models.prior import Prior, fit, normalise, save
from robostress.models.prior_fit import CONF
from robostress.questions.boxes import sampled_clean_items
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
    expected: dict[str, float]  # share each value would have if the truth were uniform over each item's options

    @property
    def letter_skew(self) -> float:
        """Largest distance of a letter's share from uniform (over the letters offered)."""
        k = max(len(self.letters), 1)
        return max(abs(v - 1 / k) for v in self.letters.values()) if self.letters else 0.0

    @property
    def value_skew(self) -> float:
        """Largest distance of a truth value's share from its share under a truth uniform over
        each item's options (e.g. 'the table', offered in every 'on' question of four options,
        should be the truth a quarter of the time; yes and no half the time each)."""
        keys = set(self.values) | set(self.expected)
        return max(abs(self.values.get(k, 0.0) - self.expected.get(k, 0.0)) for k in keys) if keys else 0.0


def _value(item: Item, option: str) -> str:
    text = normalise(item.question, [option]).options[0]
    if item.qtype == "on" and not text.startswith("the "):
        return "an object"
    return re.sub(r"<x:[a-z ]+>", "<x>", text)


def truth_value(item: Item) -> str:
    """The item's truth with object names abstracted ('<1>', '<x>'; 'an object' for the kind
    of object something rests on)."""
    return _value(item, item.truth["option"])


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
        expected: Counter[str] = Counter()
        for i in its:
            for o in i.options:
                expected[_value(i, o)] += 1 / len(i.options) / n
        rows.append(LeakRow(qtype=qtype, n=n, scenes=len({i.scene_id for i in its}),
                            chance=sum(1 / len(i.options) for i in its) / n,
                            prior=sum(_accuracy(prior, its)) / n, blind=sum(_accuracy(blind, its)) / n,
                            letters={k: letters[k] / n for k in offered},
                            values={k: v / n for k, v in values.most_common()}, expected=dict(expected)))
    return rows


def leakage(bench_dir: Path | str, clean_only: bool = False) -> list[LeakRow]:
    """Rows of a built benchmark folder (all frames, or only the clean twins)."""
    return leakage_rows(benchmark_test_items(bench_dir, clean_only))


def sampled_items(family: str = "lab_tabletop", train_scenes: int = 150, test_scenes: int = 150,
                  test_seed: int = 0) -> tuple[list[Item], list[Item]]:
    """Clean items of ``train_scenes`` scenes of the train preset's seed and of ``test_scenes``
    held-out scenes (seed ``test_seed``) of ``family``; box-rasterised frames."""
    if train_seed() == test_seed:
        raise ConfigError(f"the held-out seed {test_seed} is the train split's seed")
    return train_items(family, train_scenes), sampled_clean_items(test_seed, test_scenes, (family,))


def train_seed() -> int:
    """The seed of the ``train`` preset: scenes no benchmark built with another seed contains."""
    return int(yaml.safe_load((CONF / "benchmark" / "train.yaml").read_text())["seed"])


def train_items(family: str = "lab_tabletop", train_scenes: int = 150) -> list[Item]:
    """Clean items of ``train_scenes`` scenes of the train split of ``family`` (box-rasterised)."""
    return sampled_clean_items(train_seed(), train_scenes, (family,))


def benchmark_test_items(bench_dir: Path | str, clean_only: bool = False) -> list[Item]:
    """The items of a built benchmark (all frames, or the clean twins), refusing one built from the
    train split's seed (a learner fitted on those scenes would be scored on its own training data)."""
    b = Benchmark(bench_dir)
    seed = b.manifest.get("config", {}).get("seed")
    if seed is not None and int(seed) == train_seed():
        raise ConfigError(f"{bench_dir} was built from the train split's seed {seed}: no held-out scenes to score")
    return [i for i in b.items if i.severity == 0] if clean_only else list(b.items)


def prior_rows(train: Sequence[Item], test: Sequence[Item], family: str = "lab_tabletop") -> list[LeakRow]:
    """Rows of the ``test`` items, the prior fitted on the ``train`` items."""
    table = fit(train, {"benchmark": f"sampled-{family}", "seed": 0, "num_scenes": len({i.scene_id for i in train})})
    with tempfile.TemporaryDirectory() as tmp:
        save(table, Path(tmp) / "prior.json")
        prior = Prior(table=str(Path(tmp) / "prior.json"))
    return sorted(leakage_rows(test, prior=prior), key=lambda r: r.qtype)


def sampled_leakage(family: str = "lab_tabletop", train_scenes: int = 150, test_scenes: int = 150,
                    test_seed: int = 0) -> list[LeakRow]:
    """Rows of ``test_scenes`` held-out clean scenes of ``family`` (seed ``test_seed``), the prior
    fitted on ``train_scenes`` scenes of the train preset's seed; box-rasterised frames."""
    train, test = sampled_items(family, train_scenes, test_scenes, test_seed)
    return prior_rows(train, test, family)


def twin_rows(test: Sequence[Item], model: Model | None = None) -> list[LearnedRow]:
    """The text-only twin (``reader_blind``: the reader's network trained on the train split with
    its image zeroed, docs/reader.md) scored on the multiple-choice items of ``test``; it reads no
    image, so sampled (box-rasterised) and built items are scored alike."""
    mc = multiple_choice(test)
    return scored_rows(mc, _accuracy(model or create_model("reader_blind"), mc))


def overall(rows: Sequence[LeakRow]) -> tuple[float, float, float]:
    """(chance, prior, blind) over all items of ``rows`` (micro averages)."""
    n = sum(r.n for r in rows) or 1
    return tuple(sum(getattr(r, k) * r.n for r in rows) / n for k in ("chance", "prior", "blind"))  # type: ignore[return-value]


def format_rows(rows: Sequence[LeakRow]) -> str:
    """A markdown table: accuracies and skews in percent, the top truth values (with their share
    under a truth uniform over the options in brackets)."""
    lines = ["| type | n | scenes | chance % | prior % | blind % | letters % | letter skew | top values % (uniform) | value skew |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    rows = list(rows)
    for r in rows:
        lets = " ".join(f"{k}{100 * v:.0f}" for k, v in r.letters.items())
        vals = ", ".join(f"{k[:24]} {100 * v:.0f} ({100 * r.expected.get(k, 0):.0f})" for k, v in list(r.values.items())[:3])
        lines.append(f"| {r.qtype} | {r.n} | {r.scenes} | {100 * r.chance:.0f} | {100 * r.prior:.1f} | "
                     f"{100 * r.blind:.1f} | {lets} | {100 * r.letter_skew:.1f} | {vals} | {100 * r.value_skew:.1f} |")
    chance, prior, blind = overall(rows)
    lines.append(f"| all | {sum(r.n for r in rows)} | | {100 * chance:.1f} | {100 * prior:.1f} | {100 * blind:.1f} | | | | |")
    return "\n".join(lines)


def sampled_header(family: str, train_scenes: int, test_scenes: int) -> str:
    """The line above the table of ``sampled_leakage``."""
    return (f"{family}: prior fitted on {train_scenes} train scenes, scored on {test_scenes} held-out clean scenes "
            "(box rasteriser)")
