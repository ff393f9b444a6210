"""Summaries of a run: one generic group-by over (dimension, sub-type, severity, ability)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from robostress.metrics.stats import breaking_point, corruption_error, paired_bootstrap, wilson
from robostress.scoring.prediction import Prediction

SUMMARY_SCHEMA_VERSION = 1
KEYS = ("dimension", "subtype", "severity", "ability")


def cell(preds: Sequence[Prediction]) -> dict[str, Any]:
    """Accuracy (micro, with Wilson CI), mean score, chance, unparsable and error rates."""
    n = len(preds)
    k = sum(p.correct for p in preds)
    lo, hi = wilson(k, n)
    return {"n": n, "correct": int(k), "accuracy": k / n if n else None, "ci95": [lo, hi],
            "mean_score": float(np.mean([p.score for p in preds])) if n else None,
            "chance": float(np.mean([p.chance for p in preds])) if n else None,
            "unparsable_rate": sum(p.parse_error is not None for p in preds) / n if n else None,
            "error_rate": sum(p.error is not None for p in preds) / n if n else None}


def group(preds: Iterable[Prediction], keys: Sequence[str],
          fn: Callable[[Sequence[Prediction]], dict[str, Any]] = cell) -> dict[str, dict[str, Any]]:
    """``fn`` of each group of predictions sharing ``keys`` (key string 'a/b/c')."""
    groups: dict[tuple[Any, ...], list[Prediction]] = defaultdict(list)
    for p in preds:
        groups[tuple(getattr(p, k) for k in keys)].append(p)
    return {"/".join(str(x) for x in k): fn(v) for k, v in sorted(groups.items(), key=lambda kv: str(kv[0]))}


def pairs(preds: Sequence[Prediction]) -> list[tuple[Prediction, Prediction]]:
    """(clean twin, stressed) prediction pairs."""
    by_id = {p.item_id: p for p in preds}
    return [(by_id[p.clean_item_id], p) for p in preds if p.severity > 0 and p.clean_item_id in by_id]


def paired_cell(pp: Sequence[tuple[Prediction, Prediction]], seed: int = 0) -> dict[str, Any]:
    """Paired clean-vs-stressed analysis of a group of pairs."""
    n = len(pp)
    if not n:
        return {"n_pairs": 0}
    c = [float(a.correct) for a, _ in pp]
    s = [float(b.correct) for _, b in pp]
    diff, lo, hi = paired_bootstrap(c, s, seed=seed)
    ca, sa = float(np.mean(c)), float(np.mean(s))
    return {"n_pairs": n, "clean_accuracy": ca, "stressed_accuracy": sa,
            "drop": -diff, "drop_ci95": [-hi, -lo],
            "flip_correct_to_wrong": sum(a.correct and not b.correct for a, b in pp) / n,
            "flip_wrong_to_correct": sum(b.correct and not a.correct for a, b in pp) / n,
            "relative_robustness": sa / ca if ca > 0 else None}


def _paired_groups(pp: list[tuple[Prediction, Prediction]], keys: Sequence[str], seed: int) -> dict[str, Any]:
    groups: dict[tuple[Any, ...], list[tuple[Prediction, Prediction]]] = defaultdict(list)
    for a, b in pp:
        groups[tuple(getattr(b, k) for k in keys)].append((a, b))
    return {"/".join(map(str, k)): paired_cell(v, seed) for k, v in sorted(groups.items(), key=lambda kv: str(kv[0]))}


def _curves(preds: Sequence[Prediction], pp: list[tuple[Prediction, Prediction]],
            keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Severity curve and breaking point per group of ``keys``."""
    out: dict[str, dict[str, Any]] = {}
    groups: dict[str, list[tuple[Prediction, Prediction]]] = defaultdict(list)
    for a, b in pp:
        groups["/".join(str(getattr(b, k)) for k in keys)].append((a, b))
    for name, g in sorted(groups.items()):
        clean = float(np.mean([a.correct for a, _ in g]))
        chance = float(np.mean([b.chance for _, b in g]))
        by_sev: dict[int, list[bool]] = defaultdict(list)
        for _, b in g:
            by_sev[b.severity].append(b.correct)
        sevs = sorted(by_sev)
        acc = [float(np.mean(by_sev[s])) for s in sevs]
        out[name] = {"severities": sevs, "accuracy": acc, "clean": clean, "chance": chance,
                     "breaking_point": breaking_point(sevs, acc, clean, chance)}
    return out


def _ce(preds: Sequence[Prediction], ref: Sequence[Prediction]) -> dict[str, Any]:
    mine = group([p for p in preds if p.severity > 0], ("dimension", "subtype", "severity"))
    theirs = group([p for p in ref if p.severity > 0], ("dimension", "subtype", "severity"))
    per_sub: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for k, c in mine.items():
        if k in theirs and c["n"] and theirs[k]["n"]:
            per_sub[k.rsplit("/", 1)[0]].append((1 - c["accuracy"], 1 - theirs[k]["accuracy"]))
    ce = {k: corruption_error([e for e, _ in v], [r for _, r in v]) for k, v in sorted(per_sub.items())}
    by_dim: dict[str, list[float]] = defaultdict(list)
    for k, v in ce.items():
        if v is not None:
            by_dim[k.split("/")[0]].append(v)
    mce = {d: float(np.mean(v)) for d, v in sorted(by_dim.items())}
    vals = [v for v in ce.values() if v is not None]
    return {"per_subtype": ce, "mCE_per_dimension": mce, "mCE": float(np.mean(vals)) if vals else None}


def summarize(preds: Sequence[Prediction], reference: Sequence[Prediction] | None = None,
              seed: int = 0) -> dict[str, Any]:
    """The full JSON-serialisable summary of a run (see report.md for how to read it)."""
    clean = [p for p in preds if p.severity == 0]
    stressed = [p for p in preds if p.severity > 0]
    pp = pairs(preds)
    by_dim = group(stressed, ("dimension",))
    by_sub = group(stressed, ("dimension", "subtype"))
    worst = min(((k, v["accuracy"]) for k, v in by_dim.items() if v["n"]), key=lambda kv: kv[1], default=None)
    sub_acc = [v["accuracy"] for v in by_sub.values() if v["n"]]
    out: dict[str, Any] = {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "model": preds[0].model if preds else None,
        "n_predictions": len(preds),
        "clean": cell(clean),
        "stressed_micro": cell(stressed),
        "stressed_macro_over_subtypes": float(np.mean(sub_acc)) if sub_acc else None,
        "worst_dimension": {"dimension": worst[0], "accuracy": worst[1]} if worst else None,
        "by_dimension": by_dim,
        "by_subtype": by_sub,
        "by_dimension_severity": group(stressed, ("dimension", "severity")),
        "by_subtype_severity": group(stressed, ("dimension", "subtype", "severity")),
        "by_ability_clean": group(clean, ("ability",)),
        "by_ability_stressed": group(stressed, ("ability",)),
        "by_dimension_ability": group(stressed, ("dimension", "ability")),
        "by_cell": group(stressed, KEYS),
        "paired_by_dimension": _paired_groups(pp, ("dimension",), seed),
        "paired_by_subtype_severity": _paired_groups(pp, ("dimension", "subtype", "severity"), seed),
        "curves_by_dimension": _curves(preds, pp, ("dimension",)),
        "curves_by_subtype": _curves(preds, pp, ("dimension", "subtype")),
        "curves_by_dimension_ability": _curves(preds, pp, ("dimension", "ability")),
    }
    if reference:
        out["corruption_error"] = _ce(preds, reference)
    return out


def compare(base: Sequence[Prediction], other: Sequence[Prediction], seed: int = 0) -> dict[str, Any]:
    """Paired gain of ``other`` over ``base`` on the same items, per dimension and sub-type x severity."""
    a = {p.item_id: p for p in base}
    both = [(a[p.item_id], p) for p in other if p.item_id in a]

    def gain(pp: Sequence[tuple[Prediction, Prediction]]) -> dict[str, Any]:
        m, lo, hi = paired_bootstrap([x.correct for x, _ in pp], [y.correct for _, y in pp], seed=seed)
        return {"n": len(pp), "base": float(np.mean([x.correct for x, _ in pp])),
                "other": float(np.mean([y.correct for _, y in pp])), "gain": m, "gain_ci95": [lo, hi]}

    out: dict[str, Any] = {"overall": gain(both) if both else {"n": 0}}
    for name, keys in (("by_dimension", ("dimension",)), ("by_subtype_severity", ("dimension", "subtype", "severity"))):
        groups: dict[str, list[tuple[Prediction, Prediction]]] = defaultdict(list)
        for x, y in both:
            groups["/".join(str(getattr(y, k)) for k in keys)].append((x, y))
        out[name] = {k: gain(v) for k, v in sorted(groups.items())}
    return out
