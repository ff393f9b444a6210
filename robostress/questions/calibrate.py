"""Calibrate the weights 'on' draws its wrong kinds with, on the train split.

An 'on' question ('What is the red mug resting on or in?') offers the support(s) and object
kinds. Its truth comes from the scene sampler: a stack's base is drawn first, then an object
that fits on it, so a small box is the base of a small object far more often than a large box
or a plate is. Drawn uniformly over the kinds the subject would fit on, the wrong options offered
plates and large boxes (which fit under everything) far more often than they were the truth,
and the small boxes rarely: a text-only model that picks the option most often right when
offered scored 33 % against 25 %.

A text-only model sees each option's text and nothing of the scene, so the quantity to hold
is, per kind, how often it is the truth when offered: one in the number of options. Each kind
gets a weight such that, over the train split's 'on' questions, its expected number of offers as
a wrong option is ``size - 1`` times the number of times it is the truth; the weights are found
by fixed-point iteration, with the wrong options' draw (weighted, without replacement, which
is the Gumbel top-k of log-weights plus noise) simulated with a fixed set of noise draws. Refit
after any change to scene sampling or to how 'on' chooses its subject::

    python -m robostress.questions.calibrate          # about 3 min: 1000 train scenes
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from robostress.questions.spatial import SUPPORT_TABLE, support_weights

ITERATIONS, DRAWS = 60, 400
NEVER_TRUE = 0.25  # a kind never the truth on the train split is offered as if a quarter of a time


@dataclass(frozen=True)
class Record:
    """One train 'on' question, before its wrong kinds are drawn (categories throughout)."""

    truth: str | None  # category it rests on (None: a support)
    fitting: tuple[str, ...]  # kinds drawn by weight
    rest: tuple[tuple[str, ...], ...]  # then these, uniformly, should too few fit
    wrong: int  # wrong object options the question holds
    size: int  # options


def records(family: str, seed: int, num_scenes: int, progress: bool = True) -> list[Record]:
    """The 'on' question of each of ``num_scenes`` sampled scenes, as ``Builder`` would choose it
    (box-rendered: visibility from geometry, as the prior's leakage check samples them)."""
    from tqdm import tqdm

    from robostress.questions import templates as T
    from robostress.questions.base import FrameContext, Slots
    from robostress.questions.spatial import RestingOn
    from robostress.render.boxes import box_render
    from robostress.scene.assets import asset_catalog
    from robostress.scene.objects import CATEGORIES
    from robostress.scene.sample import sample_scene
    from robostress.seeding import rng

    cat_of = {T.indefinite(c): c for c in [*CATEGORIES, *asset_catalog().categories]}
    out = []
    for i in tqdm(range(num_scenes), desc=f"'on' questions of {family}", disable=not progress):
        plan = sample_scene(family, seed, i)
        frame, arrays = box_render(plan)
        ctx = FrameContext(plan, frame, arrays, Slots.of(seed, plan.scene_id, i))
        c = RestingOn().choose(ctx, rng(seed, plan.scene_id, "questions", "on"))
        if c is None:
            continue
        truth = cat_of.get(c.truth)
        wrong = c.size - len({c.truth, *c.supports})
        out.append(Record(truth, c.fitting, tuple(tuple(sorted(cat_of[t] for t in grp)) for grp in c.rest), wrong,
                          c.size))
    return out


def calibrate(recs: list[Record], iterations: int = ITERATIONS, draws: int = DRAWS,
              seed: int = 0) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """(weights, expected wrong offers, target wrong offers) per kind (see the module docstring)."""
    kinds = sorted({k for r in recs for k in (*r.fitting, *(x for grp in r.rest for x in grp))}
                   | {r.truth for r in recs if r.truth})
    idx = {k: i for i, k in enumerate(kinds)}
    target = np.full(len(kinds), NEVER_TRUE)
    fixed = np.zeros(len(kinds))  # offers the weights do not decide
    drawn: list[tuple[np.ndarray, int]] = []
    for r in recs:
        if r.truth:
            target[idx[r.truth]] += r.size - 1  # offered size times as often as true: size - 1 times wrong
        cand = np.array([idx[k] for k in r.fitting], dtype=int)
        if len(cand) > r.wrong:
            drawn.append((cand, r.wrong))
            continue
        fixed[cand] += 1
        chosen, left = set(r.fitting), r.wrong - len(cand)
        for grp in r.rest:  # uniform fillers: each of a group's L kinds offered with chance min(1, left / L)
            cands = [k for k in grp if k not in chosen and k != r.truth]
            if left <= 0 or not cands:
                continue
            fixed[[idx[k] for k in cands]] += min(1.0, left / len(cands))
            left -= len(cands)
            chosen |= set(cands)
    g = np.random.default_rng(seed)
    noise = [g.gumbel(size=(draws, len(c))) for c, _ in drawn]
    logw = np.zeros(len(kinds))

    def expected() -> np.ndarray:
        e = fixed.copy()
        for (c, k), gu in zip(drawn, noise, strict=True):
            top = np.argpartition(-(logw[c] + gu), k - 1, axis=1)[:, :k]
            np.add.at(e, c[top.ravel()], 1.0 / draws)
        return e

    for _ in range(iterations):
        logw += 0.5 * (np.log(target) - np.log(np.maximum(expected(), 1e-6)))
        logw = np.clip(logw - logw.mean(), -4.0, 4.0)  # no kind more than e^8 times another
    w = np.exp(logw)
    return (dict(zip(kinds, map(float, w), strict=True)), dict(zip(kinds, map(float, expected()), strict=True)),
            dict(zip(kinds, map(float, target), strict=True)))


def fit_supports(families: list[str], seed: int, num_scenes: int, out: Path = SUPPORT_TABLE,
                 progress: bool = True) -> dict[str, Any]:
    """Calibrate each family's weights on ``num_scenes`` scenes of seed ``seed`` (the train split)
    and write the table ``support_weights`` reads."""
    from robostress.benchmark.build import GENERATOR_VERSION

    fams: dict[str, Any] = {}
    for fam in families:
        recs = records(fam, seed, num_scenes, progress)
        w, exp, target = calibrate(recs)
        fams[fam] = {"seed": seed, "num_scenes": num_scenes, "questions": len(recs),
                     "weights": {k: round(v, 5) for k, v in w.items()},
                     "expected_wrong_offers": {k: round(v, 2) for k, v in exp.items()},
                     "target_wrong_offers": {k: round(v, 2) for k, v in target.items()}}
    table = {"generator": GENERATOR_VERSION, "families": fams}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    support_weights.cache_clear()
    return table


def main(argv: list[str] | None = None) -> int:
    """``python -m robostress.questions.calibrate [num_scenes]``: refit on the train split's lab scenes
    (1000 by default: each kind's weight rests on its truth count, and 300 scenes left it noisy)."""
    import yaml

    from robostress.models.prior_fit import CONF

    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or (args and not (args[0].isdigit() and int(args[0]) > 0)):
        print(f"robostress.questions.calibrate: error: give one positive number of train scenes, got {' '.join(args)!r}",
              file=sys.stderr)
        return 2
    n = int(args[0]) if args else 1000
    seed = int(yaml.safe_load((CONF / "benchmark" / "train.yaml").read_text())["seed"])
    table = fit_supports(["lab_tabletop"], seed, n)
    lab = table["families"]["lab_tabletop"]
    for k, v in lab["weights"].items():
        print(f"{k:20s} weight {v:7.3f}  wrong offers {lab['expected_wrong_offers'][k]:6.1f} "
              f"(target {lab['target_wrong_offers'][k]:6.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
