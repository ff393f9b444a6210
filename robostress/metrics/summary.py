"""The summary of one run: one generic group-by over (dimension, sub-type, severity, ability),
roll-ups, paired analyses against clean twins, severity curves and corruption error.

Roll-ups are declared as tables of key tuples, never as per-category code. Clean items have
severity 0 and dimension 'none'; a stressed item reaches its clean twin through clean_item_id.
Compound items (two factors at once) are in no roll-up: they are analysed against their clean and
single-factor twins in ``interaction`` (``robostress.metrics.interaction``).

Every interval resamples scenes, then clean-twin families within each drawn scene (a two-stage
cluster bootstrap, ``robostress.metrics.stats.cluster_bootstrap``): items of one scene share its
objects and layout, and the stressed versions of one clean item share that item, so items are not
independent. Wilson intervals, which do treat items as independent, are kept only under the
explicitly labelled key ``wilson95_items_independent``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from robostress.errors import DataError
from robostress.metrics.interaction import interactions, is_compound
from robostress.metrics.paired import ce_against, curves, key_of, paired_groups, pairs, split
from robostress.metrics.records import (
    SUMMARY_SCHEMA_VERSION,
    Bootstrap,
    Cell,
    Summary,
    WorstDimension,
)
from robostress.metrics.stats import (
    BOOTSTRAP_RESAMPLES,
    chance_band,
    cluster_bootstrap,
    mean_defined,
    wilson,
)
from robostress.scoring.prediction import Prediction
from robostress.seeding import derive_seed

CLEAN_DIMENSION = "none"
KEYS = ("dimension", "subtype", "severity", "ability")
WORST_METRIC = "stressed accuracy, micro over items"
MDD_DEFINITION = ("minimum detectable drop = 2.80 x the scene-level bootstrap standard error of the paired "
                  "drop: the smallest true drop detected with 80% power at two-sided alpha 0.05")

# name -> (which items, group keys); every roll-up is this one group-by
ROLLUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "by_cell": ("stressed", KEYS),
    "by_dimension": ("stressed", ("dimension",)),
    "by_dimension_severity": ("stressed", ("dimension", "severity")),
    "by_subtype": ("stressed", ("dimension", "subtype")),
    "by_subtype_severity": ("stressed", ("dimension", "subtype", "severity")),
    "by_ability_clean": ("clean", ("ability",)),
    "by_ability_stressed": ("stressed", ("ability",)),
    "by_dimension_ability": ("stressed", ("dimension", "ability")),
    "by_format_clean": ("clean", ("format",)),
    "by_format_stressed": ("stressed", ("format",)),
}
PAIRED = {"paired_by_dimension": ("dimension",), "paired_by_subtype": ("dimension", "subtype"),
          "paired_by_subtype_severity": ("dimension", "subtype", "severity"),
          "paired_by_ability": ("ability",), "paired_by_dimension_ability": ("dimension", "ability"),
          "paired_by_cell": KEYS}
CURVES = {"curves_by_dimension": ("dimension",), "curves_by_subtype": ("dimension", "subtype"),
          "curves_by_dimension_ability": ("dimension", "ability")}


def cell(preds: Sequence[Prediction], seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES) -> Cell:
    """One cell: n items, n scenes, n clean-twin families, micro accuracy with its scene-level
    bootstrap 95% CI and standard error (and, labelled, the items-independent Wilson CI), mean
    score (IoU for boxes), chance with the 95% band of a random answerer, and the rates of
    unparsable answers (parse_error set) and backend errors (no answer obtained)."""
    n = len(preds)
    if not n:
        return Cell(n=0, n_scenes=0, n_families=0, correct=0, accuracy=None, ci95=(0.0, 1.0), se=None,
                    wilson95_items_independent=(0.0, 1.0), mean_score=None, chance=None, chance_band95=None,
                    unparsable_rate=None, error_rate=None)
    k = sum(p.correct for p in preds)
    est = cluster_bootstrap([float(p.correct) for p in preds], [p.scene_id for p in preds],
                            [p.clean_item_id for p in preds], seed=seed, resamples=resamples)
    chances = [p.chance for p in preds]
    return Cell(n=n, n_scenes=est.n_scenes, n_families=est.n_families, correct=int(k), accuracy=k / n,
                ci95=(est.lo, est.hi), se=est.se, wilson95_items_independent=wilson(k, n),
                mean_score=float(np.mean([p.score for p in preds])), chance=float(np.mean(chances)),
                chance_band95=chance_band(chances),
                unparsable_rate=sum(p.parse_error is not None for p in preds) / n,
                error_rate=sum(p.error is not None for p in preds) / n)


def group(preds: Sequence[Prediction], keys: Sequence[str], seed: int = 0,
          resamples: int = BOOTSTRAP_RESAMPLES) -> dict[str, Cell]:
    """``cell`` of each group of predictions sharing ``keys``, named 'a/b/c' and sorted by name
    (each group's bootstrap seed is derived from ``seed``, ``keys`` and its name)."""
    return {k: cell(v, derive_seed(seed, "cell", *keys, k), resamples)
            for k, v in split(preds, lambda p: key_of(p, keys)).items()}


def validate(preds: Sequence[Prediction]) -> None:
    """Raise DataError naming the first inconsistency: duplicates, mixed runs, broken twins."""
    if not preds:
        raise DataError("no predictions to summarise")
    seen: dict[str, Prediction] = {}
    for i, p in enumerate(preds):
        if not isinstance(p, Prediction):
            raise DataError(f"prediction {i} is a {type(p).__name__}, not a Prediction")
        if p.item_id in seen:
            raise DataError(f"item {p.item_id!r} has two predictions; summarise one run at a time")
        seen[p.item_id] = p
        if (p.severity == 0) != (p.dimension == CLEAN_DIMENSION) or p.severity < 0:
            raise DataError(f"item {p.item_id!r}: severity {p.severity} with dimension {p.dimension!r} "
                            f"(clean items have severity 0 and dimension {CLEAN_DIMENSION!r})")
        if p.severity == 0 and p.clean_item_id != p.item_id:
            raise DataError(f"clean item {p.item_id!r} names another clean twin {p.clean_item_id!r}")
    models = sorted({p.model for p in preds})
    if len(models) > 1:
        raise DataError(f"predictions of several models in one run: {', '.join(models)}")
    for p in preds:
        twin = seen.get(p.clean_item_id)
        if p.severity > 0 and twin is not None and twin.severity != 0:
            raise DataError(f"item {p.item_id!r}: its clean twin {p.clean_item_id!r} is a stressed item")
        for f in p.factor_item_ids or ():
            t = seen.get(f)
            if t is not None and (t.severity == 0 or is_compound(t)):
                raise DataError(f"compound item {p.item_id!r}: its factor twin {f!r} is not a single-factor item")


def _worst(by_dim: dict[str, Cell]) -> WorstDimension | None:
    scored = [(c.accuracy, d) for d, c in by_dim.items() if c.n and c.accuracy is not None]
    if not scored:
        return None
    acc, dim = min(scored)  # ties resolve to the alphabetically first dimension
    c = by_dim[dim]
    return WorstDimension(dimension=dim, accuracy=acc, ci95=c.ci95, n=c.n, n_scenes=c.n_scenes, metric=WORST_METRIC)


def summarize(preds: Sequence[Prediction], reference: Sequence[Prediction] | None = None,
              seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES) -> Summary:
    """The typed summary of one run (``Summary.to_dict()`` is its summary.json).

    Args:
        preds: one prediction per item of one run.
        reference: predictions of the reference model on the same benchmark; adds corruption
            error (CE per sub-type, mCE per dimension and overall).
        seed: seed of the paired bootstraps (each group derives its own from it).
        resamples: bootstrap resamples per interval.

    Raises:
        DataError: empty or inconsistent predictions, or a reference on other items.
    """
    preds = list(preds)
    validate(preds)
    single = [p for p in preds if not is_compound(p)]
    subsets = {"clean": [p for p in single if p.severity == 0],
               "stressed": [p for p in single if p.severity > 0]}
    pp = pairs(single)
    rollups = {name: group(subsets[which], keys, seed, resamples) for name, (which, keys) in ROLLUPS.items()}
    paired = {name: paired_groups(pp, keys, seed, resamples) for name, keys in PAIRED.items()}
    curve_groups = {name: curves(pp, keys, seed, resamples) for name, keys in CURVES.items()}
    by_sub = rollups["by_subtype"]
    macro_by_dim = {d: mean_defined([by_sub[k].accuracy for k in ks])
                    for d, ks in split(list(by_sub), lambda k: k.split("/")[0]).items()}
    return Summary(
        schema_version=SUMMARY_SCHEMA_VERSION, model=preds[0].model, seed=seed,
        n_predictions=len(preds), n_clean=len(subsets["clean"]), n_stressed=len(subsets["stressed"]),
        n_pairs=len(pp), n_unpaired_stressed=len(subsets["stressed"]) - len(pp),
        bootstrap=Bootstrap(resamples=resamples, interval="95% percentile",
                            resampled_unit="scene, then clean-twin family (a clean item and all its "
                                           "stressed versions) within each drawn scene",
                            mdd=MDD_DEFINITION),
        clean=cell(subsets["clean"], derive_seed(seed, "clean"), resamples),
        stressed_micro=cell(subsets["stressed"], derive_seed(seed, "stressed"), resamples),
        **rollups, **paired, **curve_groups,  # type: ignore[arg-type]  # names checked by the dataclass
        stressed_macro_over_subtypes=mean_defined([c.accuracy for c in by_sub.values()]),
        macro_by_dimension=macro_by_dim,
        stressed_macro_over_dimensions=mean_defined(list(macro_by_dim.values())),
        worst_dimension=_worst(rollups["by_dimension"]),
        corruption_error=ce_against(single, [p for p in reference if not is_compound(p)]) if reference else None,
        interaction=interactions(preds, derive_seed(seed, "interaction"), resamples))
