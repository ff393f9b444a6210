"""Interaction of two stress factors: a compound's drop against the additive and the multiplicative
prediction from its single-factor drops.

A compound item (two sub-types of two dimensions at once) points at its clean twin and at its two
single-factor twin items: the same question on the frames with each factor alone. The four
outcomes of such a quadruple are resampled together, scenes first and clean-twin families within
them (``cluster_bootstrap_draws``, the summary's two-stage bootstrap over several columns), so the
interval of any function of the four accuracies is the bootstrap's. With accuracies c (clean), a,
b (each factor alone) and ab (both):

* additive: drop_ab - (drop_a + drop_b) = a + b - c - ab, a mean per quadruple;
* multiplicative: drop_ab - (c - c * (a/c) * (b/c)) = a * b / c - ab, the observed drop against
  the drop predicted by multiplying the two accuracy ratios.

Positive values mean the combination hurts more than predicted (super-additive); a pair is
flagged only where the 95% interval excludes 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from robostress.metrics.paired import key_of, split
from robostress.metrics.records import InteractionCell, Interactions
from robostress.metrics.stats import (
    BOOTSTRAP_RESAMPLES,
    cluster_bootstrap_draws,
    minimum_detectable_drop,
)
from robostress.scoring.prediction import Prediction
from robostress.seeding import derive_seed

Quad = tuple[Prediction, Prediction, Prediction, Prediction]  # clean, factor A, factor B, compound
GROUPS = {"by_pair": ("dimension",), "by_subtype_pair": ("dimension", "subtype")}


def is_compound(p: Prediction) -> bool:
    """Whether ``p`` answers a compound item (two factors at once)."""
    return p.factor_item_ids is not None


def quads(preds: Sequence[Prediction]) -> list[Quad]:
    """(clean twin, factor A twin, factor B twin, compound) of every compound prediction whose
    three twins were answered too."""
    by_id = {p.item_id: p for p in preds}
    out = []
    for p in preds:
        if p.factor_item_ids is None:
            continue
        c, a, b = (by_id.get(i) for i in (p.clean_item_id, *p.factor_item_ids))
        if c is not None and a is not None and b is not None:
            out.append((c, a, b, p))
    return out


def _flag(ci: tuple[float, float] | None, word: str) -> str:
    if ci is None or ci[0] <= 0 <= ci[1]:
        return "not detected"
    return f"super-{word}" if ci[0] > 0 else f"sub-{word}"


def _ci(x: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(x, [2.5, 97.5])
    return float(lo) + 0.0, float(hi) + 0.0


def interaction_cell(qq: Sequence[Quad], seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES) -> InteractionCell:
    """The interaction of one group of quadruples (see the module docstring)."""
    x = np.array([[float(p.correct) for p in q] for q in qq])
    d = cluster_bootstrap_draws(x, [q[3].scene_id for q in qq], [q[3].clean_item_id for q in qq],
                                seed=seed, resamples=resamples)
    c, a, b, ab = (float(v) for v in x.mean(0))
    m = d.means
    additive = m[:, 1] + m[:, 2] - m[:, 0] - m[:, 3]
    add_ci = _ci(additive)
    se = float(additive.std()) + 0.0
    defined = m[:, 0] > 0
    mult = m[defined, 1] * m[defined, 2] / m[defined, 0] - m[defined, 3]
    mult_ci = _ci(mult) if c > 0 and len(mult) else None
    drop_ab = m[:, 0] - m[:, 3]
    return InteractionCell(
        n_quads=len(qq), n_scenes=d.n_scenes, n_clean_twins=d.n_families, clean_accuracy=c, a_accuracy=a,
        b_accuracy=b, compound_accuracy=ab, drop_a=c - a, drop_b=c - b, drop_compound=c - ab,
        drop_compound_ci95=_ci(drop_ab), additive=a + b - c - ab + 0.0, additive_ci95=add_ci, additive_se=se,
        additive_mdi=minimum_detectable_drop(se),
        multiplicative=a * b / c - ab + 0.0 if c > 0 else None, multiplicative_ci95=mult_ci,
        additive_flag=_flag(add_ci, "additive"), multiplicative_flag=_flag(mult_ci, "multiplicative"),
        combination_only_flips=sum(q[0].correct and q[1].correct and q[2].correct and not q[3].correct
                                   for q in qq) / len(qq))


def interactions(preds: Sequence[Prediction], seed: int = 0,
                 resamples: int = BOOTSTRAP_RESAMPLES) -> Interactions | None:
    """The interaction analysis of a run's compound items, per dimension pair and per sub-type
    pair (None when the run has no compound item)."""
    n_compound = sum(is_compound(p) for p in preds)
    if not n_compound:
        return None
    qq = quads(preds)
    by = {name: {k: interaction_cell(v, derive_seed(seed, "interaction", *keys, k), resamples)
                 for k, v in split(qq, lambda q, keys=keys: key_of(q[3], keys)).items()}  # type: ignore[misc]
          for name, keys in GROUPS.items()}
    return Interactions(n_compound=n_compound, n_quads=len(qq), **by)
