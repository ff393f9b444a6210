"""Calibrate the weights that question types draw their options by, on the train split.

A text-only reader sees each option's text and nothing of the scene. Where a question type
draws its options (or what it asks about) among candidates of several kinds, whatever the scene
sampler makes likelier for one kind than another shows through (``robostress.questions.
weighting``): 'on' offered plates and large boxes, which fit under everything, far more often
than they carried something; 'nearest' offered plates, rarely nearest of four; 'count' asked
about plates only for 0 or 1, as they are never placed twice; 'move_first' filled its slots
with books that could never be on top; 'existence' asked about the only black object absent half
as often as present. A text-only model gained 4 to 8 points on each.

So each such type describes every train question before its weighted draw (a
``weighting.Sample``: the candidates' kinds and how many are drawn, offers made whatever the
weights, and what the question adds to each kind's target number of offers: for an option
drawn as a wrong answer, options - 1 times its truths). Per type and family, the weights are
found by fixed-point iteration such that each kind's expected number of offers meets its
target, with the draw (weighted, without replacement: the Gumbel top-k of log-weights plus
noise) simulated with a fixed set of noise draws. Refit after any change to scene sampling or
to how these types choose::

    robostress calibrate          # about 18 min: 1000 train scenes of lab_tabletop
    robostress calibrate 'families=[household]' num_scenes=400   # household's entries only

Each family's entries are fitted on its own scenes; the entries of the families not named are
kept as the tables hold them, byte for byte (``_write``).

The same command fits the acceptance factors of ``robostress.questions.acceptance`` (``fit_acceptance``):
the types whose answers the question's own text would otherwise give away.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from tqdm import tqdm

import robostress.questions.generate  # noqa: F401 - registers every question type
from robostress.benchmark.build import GENERATOR_VERSION
from robostress.models.prior_fit import CONF
from robostress.questions import acceptance
from robostress.questions.base import QUESTION_TYPES, FrameContext, Slots
from robostress.questions.boxes import box_render, sampled_plans
from robostress.questions.generate import plan_questions
from robostress.questions.weighting import WEIGHT_TABLE, Sample, clear_cache
from robostress.seeding import rng

ITERATIONS, DRAWS = 60, 400
NEVER_TRUE = 0.25  # a kind never the truth on the train split is offered as if a quarter of a time
CLIP = 4.0  # log-weights within +-CLIP of their mean: no kind more than e^8 times another


def calibrated_types() -> list[str]:
    """Names of the registered question types that draw by calibrated weights (have ``sample``)."""
    return [n for n in QUESTION_TYPES if hasattr(QUESTION_TYPES.get(n), "sample")]


def samples(family: str, seed: int, num_scenes: int, progress: bool = True) -> dict[str, list[Sample]]:
    """Per calibrated type, the question of each of ``num_scenes`` sampled scenes (less any that
    cannot be laid out: ``sampled_plans``) before its weighted draw, as ``plan_questions`` would choose it (box-rendered: visibility from
    geometry, as the prior's leakage check samples them)."""
    types = calibrated_types()
    out: dict[str, list[Sample]] = {t: [] for t in types}
    for i, plan in tqdm(sampled_plans(family, seed, num_scenes), desc=f"questions of {family}", total=num_scenes,
                        disable=not progress):
        frame, arrays = box_render(plan)
        ctx = FrameContext(plan, frame, arrays, Slots.of(seed, plan.scene_id, i))
        for t in types:
            s = QUESTION_TYPES.get(t).sample(ctx, rng(seed, plan.scene_id, "questions", t))  # type: ignore[attr-defined]
            if s is not None:
                out[t].append(s)
    return out


def calibrate(recs: Sequence[Sample], iterations: int = ITERATIONS, draws: int = DRAWS,
              seed: int = 0) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """(weights, expected offers, target offers) per kind (see the module docstring)."""
    kinds = sorted({k for r in recs for k in (*(r.draw.candidates if r.draw else ()), *r.fixed, *r.target)})
    idx = {k: i for i, k in enumerate(kinds)}
    target = np.full(len(kinds), NEVER_TRUE)
    fixed = np.zeros(len(kinds))  # offers the weights do not decide
    drawn: list[tuple[np.ndarray, int]] = []
    for r in recs:
        for k, v in r.target.items():
            target[idx[k]] += v
        for k, v in r.fixed.items():
            fixed[idx[k]] += v
        if r.draw is None or r.draw.k <= 0:
            continue
        cand = np.array([idx[k] for k in r.draw.candidates], dtype=int)
        if len(cand) <= r.draw.k:  # all offered
            np.add.at(fixed, cand, 1.0)
        else:
            drawn.append((cand, r.draw.k))
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
        logw = np.clip(logw - logw.mean(), -CLIP, CLIP)
    w = np.exp(logw)
    return (dict(zip(kinds, map(float, w), strict=True)), dict(zip(kinds, map(float, expected()), strict=True)),
            dict(zip(kinds, map(float, target), strict=True)))


def acceptance_records(family: str, seed: int, num_scenes: int, progress: bool = True
                       ) -> dict[str, list[acceptance.Record]]:
    """Per type kept by fitted acceptance, the record of every question of ``num_scenes`` scenes,
    none left out (box-rendered, as ``samples``)."""
    recs: list[tuple[str, acceptance.Record]] = []
    for i, plan in tqdm(sampled_plans(family, seed, num_scenes), desc=f"acceptance of {family}", total=num_scenes,
                        disable=not progress):
        frame, arrays = box_render(plan)
        plan_questions(plan, frame, seed, arrays, i, records=recs)
    out: dict[str, list[acceptance.Record]] = {}
    for qtype, r in recs:
        out.setdefault(qtype, []).append(r)
    return out


def fit_acceptance(families: list[str], seed: int, num_scenes: int, out: Path = acceptance.ACCEPTANCE_TABLE,
                   progress: bool = True) -> dict[str, Any]:
    """Fit each family's acceptance factors on ``num_scenes`` scenes of seed ``seed`` (the train
    split) and write the table ``acceptance.entry_for`` reads (other families' entries of the
    table at ``out`` kept)."""
    fams = {fam: {"seed": seed, "num_scenes": num_scenes,
                  "types": {qt: acceptance.fit(r) for qt, r in sorted(acceptance_records(fam, seed, num_scenes, progress).items())}}
            for fam in families}
    table = _write(out, fams)
    acceptance.clear_cache()
    return table


def _write(out: Path, fams: dict[str, Any]) -> dict[str, Any]:
    """Write the table of ``fams`` to ``out``, keeping the entries of the families a table already
    there holds and ``fams`` does not (a family fitted alone leaves the others' byte for byte:
    sorted keys, and every number a float that reads back as written)."""
    kept = json.loads(out.read_text())["families"] if out.is_file() else {}
    table = {"generator": GENERATOR_VERSION, "families": {**kept, **fams}}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    return table


def fit_weights(families: list[str], seed: int, num_scenes: int, out: Path = WEIGHT_TABLE,
                progress: bool = True) -> dict[str, Any]:
    """Calibrate each family's weights on ``num_scenes`` scenes of seed ``seed`` (the train split)
    and write the table ``weighting.option_weights`` reads (other families' entries of the table at
    ``out`` kept)."""
    fams: dict[str, Any] = {}
    for fam in families:
        types: dict[str, Any] = {}
        for qtype, recs in samples(fam, seed, num_scenes, progress).items():
            w, exp, target = calibrate(recs)
            types[qtype] = {"questions": len(recs), "weights": {k: round(v, 5) for k, v in w.items()},
                            "expected_offers": {k: round(v, 2) for k, v in exp.items()},
                            "target_offers": {k: round(v, 2) for k, v in target.items()}}
        fams[fam] = {"seed": seed, "num_scenes": num_scenes, "types": types}
    table = _write(out, fams)
    clear_cache()
    return table


def misfit(entry: dict[str, Any], min_target: float = 10.0) -> dict[str, float]:
    """Relative distance of expected from target offers, per kind with a target of ``min_target``
    or more (a table entry of ``fit_weights``)."""
    return {k: abs(entry["expected_offers"][k] - t) / t for k, t in entry["target_offers"].items() if t >= min_target}


def refit(num_scenes: int = 1000, out: Path = WEIGHT_TABLE, progress: bool = True,
          families: Sequence[str] = ("lab_tabletop",)) -> tuple[dict[str, Any], dict[str, Any]]:
    """Refit the tables on ``num_scenes`` scenes of each of ``families`` of the train split (1000
    by default: each kind's weight rests on its truth count, and 300 scenes left it noisy): the
    option weights (written to ``out``) and then the acceptance factors (``acceptance.json``
    beside it; its questions draw by the new weights); other families' entries are kept. Returns
    both tables."""
    seed = int(yaml.safe_load((CONF / "benchmark" / "train.yaml").read_text())["seed"])
    table = fit_weights(list(families), seed, num_scenes, out=out, progress=progress)
    return table, fit_acceptance(list(families), seed, num_scenes, out=acceptance_path(out), progress=progress)


def acceptance_path(weights: Path) -> Path:
    """Where ``refit`` writes the acceptance factors: beside the option weights."""
    return weights.with_name(acceptance.ACCEPTANCE_TABLE.name)


def format_fit(table: dict[str, Any], family: str = "lab_tabletop") -> str:
    """Per type of ``family``: questions, kinds, the worst misfit, and the weights and offers of
    every kind with a target of 10 offers or more (a table of ``fit_weights``)."""
    lines = []
    for qtype, e in table["families"][family]["types"].items():
        off = misfit(e)
        worst = max(off, key=off.__getitem__) if off else "-"
        lines.append(f"{qtype:12s} {e['questions']:5d} questions, {len(e['weights']):3d} kinds; "
                     f"kinds with a target >= 10 within {100 * max(off.values(), default=0):.0f} % of it (worst: {worst})")
        for k, v in e["weights"].items():
            if e["target_offers"][k] >= 10:
                lines.append(f"    {k:28s} weight {v:8.3f}  offers {e['expected_offers'][k]:7.1f} "
                             f"(target {e['target_offers'][k]:7.1f})")
    return "\n".join(lines)


def format_acceptance(table: dict[str, Any], family: str = "lab_tabletop") -> str:
    """Per type of ``family``: questions, cells, the share kept, and the largest excess of a kind's
    share as the truth in a cell of 20 questions or more over one in k, before and after (a table
    of ``fit_acceptance``)."""
    return "\n".join(
        f"{qtype:12s} {e['records']:5d} questions, {len(e['factors']):3d} cells; kept {100 * e['kept']:.0f} %; "
        f"largest excess of a truth's share in a cell {100 * e['share_max'][0]:.0f} -> {100 * e['share_max'][1]:.0f} points"
        for qtype, e in table["families"][family]["types"].items())
