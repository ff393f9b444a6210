"""Paired analyses: stressed items vs their clean twins, severity curves, CE, and run vs run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from robostress.errors import DataError
from robostress.metrics.stats import (
    breaking_point,
    corruption_error,
    mean_defined,
    paired_bootstrap,
    relative_robustness,
    wilson,
)
from robostress.scoring.prediction import Prediction
from robostress.seeding import derive_seed

Pair = tuple[Prediction, Prediction]
T = TypeVar("T")
SEVERITY_CELL = ("dimension", "subtype", "severity")


def key_of(p: Prediction, keys: Sequence[str]) -> str:
    """The group name of ``p`` under ``keys``: attribute values joined by '/'."""
    return "/".join(str(getattr(p, k)) for k in keys)


def split(items: Sequence[T], name: Callable[[T], str]) -> dict[str, list[T]]:
    """Group ``items`` by ``name(item)``, groups in sorted order of their names."""
    groups: dict[str, list[T]] = defaultdict(list)
    for it in items:
        groups[name(it)].append(it)
    return dict(sorted(groups.items()))


def pairs(preds: Sequence[Prediction]) -> list[Pair]:
    """(clean twin, stressed) prediction pairs; stressed items whose twin is absent are skipped."""
    by_id = {p.item_id: p for p in preds}
    return [(by_id[p.clean_item_id], p) for p in preds if p.severity > 0 and p.clean_item_id in by_id]


def paired_cell(pp: Sequence[Pair], seed: int, resamples: int) -> dict[str, Any]:
    """Clean-twin vs stressed accuracy, paired drop with a cluster-bootstrap CI, flips, robustness."""
    n = len(pp)
    c = [float(a.correct) for a, _ in pp]
    s = [float(b.correct) for _, b in pp]
    diff = paired_bootstrap(s, c, clusters=[a.item_id for a, _ in pp], seed=seed, resamples=resamples)
    ca, sa = float(np.mean(c)), float(np.mean(s))
    return {"n_pairs": n, "n_clean_twins": len({a.item_id for a, _ in pp}),
            "clean_accuracy": ca, "stressed_accuracy": sa,
            "drop": diff.value, "drop_ci95": [diff.lo, diff.hi],
            "flip_correct_to_wrong": sum(a.correct and not b.correct for a, b in pp) / n,
            "flip_wrong_to_correct": sum(b.correct and not a.correct for a, b in pp) / n,
            "relative_robustness": relative_robustness(sa, ca)}


def paired_groups(pp: Sequence[Pair], keys: Sequence[str], seed: int, resamples: int) -> dict[str, Any]:
    """``paired_cell`` per group of the stressed side's ``keys`` (seed derived per group)."""
    return {k: paired_cell(v, derive_seed(seed, "paired", *keys, k), resamples)
            for k, v in split(pp, lambda ab: key_of(ab[1], keys)).items()}


def curve(pp: Sequence[Pair]) -> dict[str, Any]:
    """Severity curve of a group of pairs: the clean point, each severity with a Wilson CI,
    chance and the breaking point.

    The clean point averages the twins per pair (so that drop = clean - stressed holds); its
    interval uses the number of distinct twins, the real sample size.
    """
    clean = float(np.mean([a.correct for a, _ in pp]))
    n_twins = len({a.item_id for a, _ in pp})
    chance = float(np.mean([b.chance for _, b in pp]))
    by_sev = split([b for _, b in pp], lambda b: f"{b.severity:03d}")
    sevs = [int(k) for k in by_sev]
    acc = [float(np.mean([b.correct for b in v])) for v in by_sev.values()]
    ns = [len(v) for v in by_sev.values()]
    return {"severities": sevs, "accuracy": acc, "n": ns,
            "ci95": [list(wilson(a * n, n)) for a, n in zip(acc, ns, strict=True)],
            "clean": clean, "clean_n_twins": n_twins, "clean_ci95": list(wilson(clean * n_twins, n_twins)),
            "chance": chance, "breaking_point": breaking_point(sevs, acc, clean, chance)}


def curves(pp: Sequence[Pair], keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``curve`` per group of the stressed side's ``keys``."""
    return {k: curve(v) for k, v in split(pp, lambda ab: key_of(ab[1], keys)).items()}


def ce_against(preds: Sequence[Prediction], reference: Sequence[Prediction]) -> dict[str, Any]:
    """Corruption error of ``preds`` against a reference run on the same items.

    Both runs are restricted to the stressed items they share, so a partial run is compared with
    the reference on the same items. CE_c sums errors over the severities of sub-type c; mCE
    averages CE_c over sub-types (per dimension, and over all sub-types).
    """
    ref = {p.item_id: p for p in reference if p.severity > 0}
    mine = [p for p in preds if p.severity > 0 and p.item_id in ref]
    if not mine:
        raise DataError("the reference predictions share no stressed items with this run "
                        "(is it a run on the same benchmark?)")
    per_sub: dict[str, float | None] = {}
    for name, group in split(mine, lambda p: key_of(p, ("dimension", "subtype"))).items():
        by_sev = split(group, lambda p: f"{p.severity:03d}")
        err = [1 - float(np.mean([p.correct for p in v])) for v in by_sev.values()]
        ref_err = [1 - float(np.mean([ref[p.item_id].correct for p in v])) for v in by_sev.values()]
        per_sub[name] = corruption_error(err, ref_err)
    by_dim = split(list(per_sub), lambda k: k.split("/")[0])
    return {"reference_model": next(iter(ref.values())).model, "n_items": len(mine),
            "per_subtype": per_sub,
            "mCE_per_dimension": {d: mean_defined([per_sub[k] for k in ks]) for d, ks in by_dim.items()},
            "mCE": mean_defined(list(per_sub.values())),
            "undefined_subtypes": sorted(k for k, v in per_sub.items() if v is None)}


def _gain(pp: Sequence[Pair], seed: int, resamples: int) -> dict[str, Any]:
    x = [float(a.correct) for a, _ in pp]
    y = [float(b.correct) for _, b in pp]
    g = paired_bootstrap(x, y, clusters=[b.clean_item_id for _, b in pp], seed=seed, resamples=resamples)
    n = len(pp)
    return {"n": n, "base": float(np.mean(x)), "other": float(np.mean(y)),
            "gain": g.value, "gain_ci95": [g.lo, g.hi],
            "helped": sum(b.correct and not a.correct for a, b in pp) / n,
            "hurt": sum(a.correct and not b.correct for a, b in pp) / n}


COMPARE_GROUPS = {"by_dimension": ("dimension",), "by_subtype": ("dimension", "subtype"),
                  "by_subtype_severity": SEVERITY_CELL}


def compare(base: Sequence[Prediction], other: Sequence[Prediction], seed: int = 0,
            resamples: int = 2000) -> dict[str, Any]:
    """Paired gain of ``other`` over ``base`` on the items both answered (e.g. agent vs base model).

    Gains are other - base accuracy with a 95% bootstrap interval over clean-twin families, plus
    the shares of items the other run helped (wrong -> right) and hurt (right -> wrong).
    """
    a = {p.item_id: p for p in base}
    both = [(a[p.item_id], p) for p in other if p.item_id in a]
    if not both:
        raise DataError("compare: the two runs share no item ids (different benchmarks?)")
    for x, y in both:
        if key_of(x, SEVERITY_CELL) != key_of(y, SEVERITY_CELL):
            raise DataError(f"compare: item {y.item_id!r} is {key_of(x, SEVERITY_CELL)} in one run and "
                            f"{key_of(y, SEVERITY_CELL)} in the other (different benchmarks?)")
    out: dict[str, Any] = {"base_model": both[0][0].model, "other_model": both[0][1].model,
                           "n_only_in_base": len(a) - len(both), "n_only_in_other": len(other) - len(both),
                           "overall": _gain(both, derive_seed(seed, "compare"), resamples)}
    for name, keys in COMPARE_GROUPS.items():
        groups = split(both, lambda xy, keys=keys: key_of(xy[1], keys))  # type: ignore[misc]
        out[name] = {k: _gain(v, derive_seed(seed, "compare", name, k), resamples) for k, v in groups.items()}
    return out
