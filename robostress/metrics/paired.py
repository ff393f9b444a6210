"""Paired analyses: stressed items vs their clean twins, severity curves, CE, and run vs run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from robostress.errors import DataError
from robostress.metrics.records import Comparison, CorruptionError, Curve, Gain, PairedCell
from robostress.metrics.stats import (
    ClusterEstimate,
    breaking_point,
    cluster_bootstrap,
    corruption_error,
    mean_defined,
    minimum_detectable_drop,
    relative_robustness,
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


def paired_difference(pp: Sequence[Pair], seed: int, resamples: int) -> ClusterEstimate:
    """Mean of (second - first) correctness over pairs with a two-stage cluster-bootstrap CI:
    scenes (of the second item) at the top level, the first item's clean-twin family within."""
    return cluster_bootstrap([float(b.correct) - float(a.correct) for a, b in pp], [b.scene_id for _, b in pp],
                             [b.clean_item_id for _, b in pp], seed=seed, resamples=resamples)


def paired_cell(pp: Sequence[Pair], seed: int, resamples: int) -> PairedCell:
    """Clean-twin vs stressed accuracy, the paired drop with its scene-level bootstrap CI, standard
    error and minimum detectable drop (``minimum_detectable_drop``), flips and relative robustness."""
    n = len(pp)
    ca, sa = float(np.mean([a.correct for a, _ in pp])), float(np.mean([b.correct for _, b in pp]))
    gain = paired_difference(pp, seed, resamples)  # stressed - clean; the drop is its negation
    return PairedCell(n_pairs=n, n_scenes=gain.n_scenes, n_clean_twins=gain.n_families,
                      clean_accuracy=ca, stressed_accuracy=sa,
                      drop=-gain.value + 0.0, drop_ci95=(-gain.hi + 0.0, -gain.lo + 0.0), drop_se=gain.se,
                      mdd=minimum_detectable_drop(gain.se),
                      flip_correct_to_wrong=sum(a.correct and not b.correct for a, b in pp) / n,
                      flip_wrong_to_correct=sum(b.correct and not a.correct for a, b in pp) / n,
                      relative_robustness=relative_robustness(sa, ca))


def paired_groups(pp: Sequence[Pair], keys: Sequence[str], seed: int, resamples: int) -> dict[str, PairedCell]:
    """``paired_cell`` per group of the stressed side's ``keys`` (seed derived per group)."""
    return {k: paired_cell(v, derive_seed(seed, "paired", *keys, k), resamples)
            for k, v in split(pp, lambda ab: key_of(ab[1], keys)).items()}


def _acc_ci(preds: Sequence[Prediction], seed: int, resamples: int) -> ClusterEstimate:
    return cluster_bootstrap([float(p.correct) for p in preds], [p.scene_id for p in preds],
                             [p.clean_item_id for p in preds], seed=seed, resamples=resamples)


def curve(pp: Sequence[Pair], seed: int = 0, resamples: int = 2000) -> Curve:
    """Severity curve of a group of pairs: the clean point, each severity with its scene-level
    bootstrap CI, chance and the breaking point.

    The clean point averages the twins per pair (so that drop = clean - stressed holds); its
    interval resamples scenes and twins, so each twin counts with the weight of its pairs.
    """
    clean = _acc_ci([a for a, _ in pp], derive_seed(seed, "clean"), resamples)
    chance = float(np.mean([b.chance for _, b in pp]))
    by_sev = split([b for _, b in pp], lambda b: f"{b.severity:03d}")
    sevs = [int(k) for k in by_sev]
    est = [_acc_ci(v, derive_seed(seed, "severity", k), resamples) for k, v in by_sev.items()]
    acc = [e.value for e in est]
    return Curve(severities=tuple(sevs), accuracy=tuple(acc), n=tuple(e.n for e in est),
                 n_scenes=tuple(e.n_scenes for e in est), ci95=tuple((e.lo, e.hi) for e in est),
                 clean=clean.value, clean_n_twins=clean.n_families, clean_n_scenes=clean.n_scenes,
                 clean_ci95=(clean.lo, clean.hi), chance=chance,
                 breaking_point=breaking_point(sevs, acc, clean.value, chance))


def curves(pp: Sequence[Pair], keys: Sequence[str], seed: int = 0, resamples: int = 2000) -> dict[str, Curve]:
    """``curve`` per group of the stressed side's ``keys`` (seed derived per group)."""
    return {k: curve(v, derive_seed(seed, "curve", *keys, k), resamples)
            for k, v in split(pp, lambda ab: key_of(ab[1], keys)).items()}


def ce_against(preds: Sequence[Prediction], reference: Sequence[Prediction]) -> CorruptionError:
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
    return CorruptionError(
        reference_model=next(iter(ref.values())).model, n_items=len(mine), per_subtype=per_sub,
        mce_per_dimension={d: mean_defined([per_sub[k] for k in ks]) for d, ks in by_dim.items()},
        mce=mean_defined(list(per_sub.values())),
        undefined_subtypes=tuple(sorted(k for k, v in per_sub.items() if v is None)))


def _gain(pp: Sequence[Pair], seed: int, resamples: int) -> Gain:
    g = paired_difference(pp, seed, resamples)
    n = len(pp)
    return Gain(n=n, n_scenes=g.n_scenes, base=float(np.mean([a.correct for a, _ in pp])),
                other=float(np.mean([b.correct for _, b in pp])),
                gain=g.value, gain_ci95=(g.lo, g.hi), gain_se=g.se, mdd=minimum_detectable_drop(g.se),
                helped=sum(b.correct and not a.correct for a, b in pp) / n,
                hurt=sum(a.correct and not b.correct for a, b in pp) / n)


COMPARE_GROUPS = {"by_dimension": ("dimension",), "by_subtype": ("dimension", "subtype"),
                  "by_subtype_severity": SEVERITY_CELL}


def compare(base: Sequence[Prediction], other: Sequence[Prediction], seed: int = 0,
            resamples: int = 2000) -> Comparison:
    """Paired gain of ``other`` over ``base`` on the items both answered (e.g. agent vs base model).

    Gains are other - base accuracy with a 95% two-stage bootstrap interval (scenes, then clean-twin
    families within them) and the minimum detectable gain (2.80 x its standard error), plus
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
    by: dict[str, dict[str, Gain]] = {}
    for name, keys in COMPARE_GROUPS.items():
        groups = split(both, lambda xy, keys=keys: key_of(xy[1], keys))  # type: ignore[misc]
        by[name] = {k: _gain(v, derive_seed(seed, "compare", name, k), resamples) for k, v in groups.items()}
    return Comparison(base_model=both[0][0].model, other_model=both[0][1].model,
                      n_only_in_base=len(a) - len(both), n_only_in_other=len(other) - len(both),
                      overall=_gain(both, derive_seed(seed, "compare"), resamples), **by)
