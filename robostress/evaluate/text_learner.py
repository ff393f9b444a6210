"""A learned text-only attacker: logistic regression on the words of the question and options.

The fitted ``prior`` counts how often a normalised option was right; it cannot combine cues (the
option's words with the question's, its letter, how it compares to the other options). This
learner can: each option of a multiple-choice item gets a sparse feature vector, an option's
score is a weight vector times it, and a softmax over the item's options is fitted by maximum
likelihood with an L2 penalty (conditional logit), one model per question type, trained on the
items of the train scenes and scored on held-out scenes. Its margin over chance, with a
scene-clustered standard error, is the leakage the words carry that a frequency table misses.

Features of one option (hashed into ``DIM`` buckets, all indicator features):

* its words and word pairs, raw and with object names abstracted (``robostress.models.prior.
  normalise``: ``<1>`` is the first object the question names, ``<x:mug>`` one it does not);
* its whole normalised text, alone and joined with the normalised question template;
* each question word crossed with each option word;
* its letter (alone and with the number of options), its length rank among the options;
* its normalised text against each other option's (which of two options tends to win).

numpy only (no scikit-learn here): full-batch Adam on the penalised log likelihood, the penalty
chosen per type by scene-grouped 3-fold cross-validation on the train items.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from robostress.models.prior import normalise
from robostress.questions.item import LETTERS, Item

DIM = 1 << 18
PENALTIES = (1e-4, 1e-3, 1e-2)  # L2 weight per item (mean log likelihood + penalty/2 * |w|^2)
STEPS = 300
_WORD = re.compile(r"<[^>]+>|[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _grams(words: list[str]) -> list[str]:
    return words + [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)]


def _hash(s: str) -> int:
    return zlib.crc32(s.encode()) % DIM


def option_features(item: Item) -> list[list[int]]:
    """Hashed feature indices of each option of ``item`` (see the module docstring)."""
    norm = normalise(item.question, item.options)
    qwords = set(_words(item.question))
    k = len(item.options)
    lengths = [len(o) for o in item.options]
    out = []
    for j, (raw, nopt) in enumerate(zip(item.options, norm.options, strict=True)):
        f = [f"o:{g}" for g in _grams(_words(raw))] + [f"n:{g}" for g in _grams(_words(nopt))]
        f += [f"N:{nopt}", f"T:{norm.template}|{nopt}", f"L:{LETTERS[j]}", f"L:{LETTERS[j]}/{k}",
              f"len:{sorted(lengths).index(lengths[j])}/{k}", "bias"]
        f += [f"q:{q}|{w}" for q in qwords for w in set(_words(raw))]
        f += [f"vs:{nopt}|{other}" for i, other in enumerate(norm.options) if i != j]
        out.append(sorted({_hash(x) for x in f}))
    return out


@dataclass
class _Design:
    """Sparse design of a set of items: one row per option."""

    row: np.ndarray  # option row of each non-zero
    col: np.ndarray  # feature bucket of each non-zero
    item_of_row: np.ndarray  # item index of each option row
    truth_row: np.ndarray  # option row of each item's correct option
    n_items: int

    @classmethod
    def of(cls, items: Sequence[Item]) -> _Design:
        rows, cols, item_of_row, truth_row = [], [], [], []
        r = 0
        for i, it in enumerate(items):
            assert it.answer is not None
            truth_row.append(r + LETTERS.index(it.answer))
            for feats in option_features(it):
                rows += [r] * len(feats)
                cols += feats
                item_of_row.append(i)
                r += 1
        return cls(np.asarray(rows, np.int64), np.asarray(cols, np.int64), np.asarray(item_of_row, np.int64),
                   np.asarray(truth_row, np.int64), len(items))

    def scores(self, w: np.ndarray) -> np.ndarray:
        return np.bincount(self.row, weights=w[self.col], minlength=len(self.item_of_row))

    def probs(self, w: np.ndarray) -> np.ndarray:
        s = self.scores(w)
        top = np.full(self.n_items, -np.inf)
        np.maximum.at(top, self.item_of_row, s)
        e = np.exp(s - top[self.item_of_row])
        return e / np.bincount(self.item_of_row, weights=e, minlength=self.n_items)[self.item_of_row]

    def predict(self, w: np.ndarray) -> np.ndarray:
        """The option row each item's highest score falls on (the first option on ties)."""
        s = self.scores(w)
        order = np.lexsort((np.arange(len(s)), -np.round(s, 9), self.item_of_row))  # by item, best first
        first = np.ones(len(order), bool)
        first[1:] = self.item_of_row[order][1:] != self.item_of_row[order][:-1]
        return order[first]


def fit(design: _Design, penalty: float, steps: int = STEPS, lr: float = 0.1) -> np.ndarray:
    """Weights maximising the mean log likelihood minus ``penalty``/2 |w|^2 (Adam, full batch);
    only the buckets the design uses are fitted (the others stay 0)."""
    used, col = np.unique(design.col, return_inverse=True)
    local = _Design(design.row, col, design.item_of_row, design.truth_row, design.n_items)
    w = np.zeros(len(used))
    m, v = np.zeros(len(used)), np.zeros(len(used))
    y = np.zeros(len(design.item_of_row))
    y[design.truth_row] = 1.0
    for t in range(1, steps + 1):
        resid = (local.probs(w) - y) / design.n_items
        g = np.bincount(col, weights=resid[design.row], minlength=len(used)) + penalty * w
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w -= lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    full = np.zeros(DIM)
    full[used] = w
    return full


def _folds(items: Sequence[Item], k: int = 3) -> list[np.ndarray]:
    scenes = sorted({i.scene_id for i in items})
    fold = {s: zlib.crc32(s.encode()) % k for s in scenes}
    return [np.array([fold[i.scene_id] == f for i in items]) for f in range(k)]


def choose_penalty(items: Sequence[Item]) -> float:
    """The penalty of ``PENALTIES`` with the best scene-grouped 3-fold accuracy on ``items``."""
    best, best_acc = PENALTIES[-1], -1.0
    folds = _folds(items)
    for pen in PENALTIES:
        hits = 0
        for held in folds:
            tr = [it for it, h in zip(items, held, strict=True) if not h]
            te = [it for it, h in zip(items, held, strict=True) if h]
            if not tr or not te:
                continue
            d = _Design.of(te)
            hits += int((d.predict(fit(_Design.of(tr), pen)) == d.truth_row).sum())
        if hits > best_acc:
            best, best_acc = pen, hits
    return best


@dataclass(frozen=True)
class LearnedRow:
    """Held-out accuracy of the learned text-only model on one question type."""

    qtype: str
    n: int  # held-out items
    scenes: int
    chance: float  # mean of 1 / number of options
    accuracy: float
    se: float  # scene-clustered standard error of accuracy - chance
    penalty: float

    @property
    def margin(self) -> float:
        """Accuracy minus chance."""
        return self.accuracy - self.chance


def clustered_se(values: np.ndarray, clusters: Sequence[str]) -> float:
    """Standard error of the mean of ``values`` with observations clustered (scenes)."""
    n = len(values)
    if n < 2:
        return float("nan")
    d = values - values.mean()
    sums: dict[str, float] = defaultdict(float)
    for c, x in zip(clusters, d, strict=True):
        sums[c] += float(x)
    g = len(sums)
    return float(np.sqrt(sum(s * s for s in sums.values()) * g / max(g - 1, 1)) / n)


def _mc(items: Sequence[Item]) -> dict[str, list[Item]]:
    by: dict[str, list[Item]] = defaultdict(list)
    for it in items:
        if it.format == "mc" and it.answer is not None and len(it.options) > 1:
            by[it.qtype].append(it)
    return by


def learned_rows(train: Sequence[Item], test: Sequence[Item]) -> list[LearnedRow]:
    """One row per multiple-choice type of ``test``: a model fitted on that type's ``train`` items."""
    tr, te = _mc(train), _mc(test)
    rows = []
    for qtype in sorted(te):
        its = te[qtype]
        if len(tr.get(qtype, [])) >= 2:
            pen = choose_penalty(tr[qtype])
            d = _Design.of(its)
            hit = d.predict(fit(_Design.of(tr[qtype]), pen)) == d.truth_row
        else:  # nothing to learn from: the first letter
            pen, hit = float("nan"), np.array([i.answer == "A" for i in its])
        rows += scored_rows(its, list(hit), pen)
    return rows


def scored_rows(test: Sequence[Item], hits: Sequence[bool], penalty: float = float("nan")) -> list[LearnedRow]:
    """One row per multiple-choice type of ``test`` from whether each item was answered right
    (``hits``, in ``test``'s order): accuracy, chance, margin with a scene-clustered SE."""
    by: dict[str, list[tuple[Item, bool]]] = defaultdict(list)
    for it, h in zip(test, hits, strict=True):
        by[it.qtype].append((it, bool(h)))
    rows = []
    for qtype in sorted(by):
        its = [i for i, _ in by[qtype]]
        hit = np.array([h for _, h in by[qtype]], float)
        chance = np.array([1 / len(i.options) for i in its])
        rows.append(LearnedRow(qtype, len(its), len({i.scene_id for i in its}), float(chance.mean()),
                               float(hit.mean()), clustered_se(hit - chance, [i.scene_id for i in its]), penalty))
    return rows


def multiple_choice(items: Sequence[Item]) -> list[Item]:
    """The multiple-choice items with an answer and more than one option (what a text-only
    attacker is scored on), in their order."""
    return [i for its in _mc(items).values() for i in its]


def format_learned(rows: Sequence[LearnedRow], learner: str = "logreg") -> str:
    """A markdown table: accuracy and margin over chance with its standard error, in points."""
    pen = learner == "logreg"
    lines = [f"| type | n | scenes | chance % | {learner} % | margin (± SE) |" + (" penalty |" if pen else ""),
             "|---|---|---|---|---|---|" + ("---|" if pen else "")]
    for r in rows:
        lines.append(f"| {r.qtype} | {r.n} | {r.scenes} | {100 * r.chance:.1f} | {100 * r.accuracy:.1f} | "
                     f"{100 * r.margin:+.1f} ± {100 * r.se:.1f} |" + (f" {r.penalty:g} |" if pen else ""))
    if rows:
        n = sum(r.n for r in rows)
        acc, ch = sum(r.accuracy * r.n for r in rows) / n, sum(r.chance * r.n for r in rows) / n
        lines.append(f"| all | {n} | | {100 * ch:.1f} | {100 * acc:.1f} | {100 * (acc - ch):+.1f} |" + (" |" if pen else ""))
    return "\n".join(lines)
