"""Metrics against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from robostress.metrics import (
    breaking_point,
    compare,
    corruption_error,
    paired_bootstrap,
    summarize,
    wilson,
)
from robostress.scoring.prediction import Prediction


def test_wilson_matches_the_formula() -> None:
    z = 1.959963984540054
    for k, n in ((0, 10), (5, 10), (10, 10), (37, 120)):
        p = k / n
        c = (p + z * z / (2 * n)) / (1 + z * z / n)
        h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        assert wilson(k, n) == pytest.approx((max(0, c - h), min(1, c + h)))
    assert wilson(0, 10)[0] == 0 and wilson(10, 10)[1] == pytest.approx(1) and wilson(0, 0) == (0.0, 1.0)


def test_paired_bootstrap_covers_the_truth_and_is_seeded() -> None:
    g = np.random.default_rng(1)
    a = (g.random(400) < 0.8).astype(float)
    b = a.copy()
    b[g.choice(400, 80, replace=False)] = 0  # a true drop of about 0.16
    m, lo, hi = paired_bootstrap(a, b, seed=3)
    assert lo < m < hi and hi < 0 and m == pytest.approx(b.mean() - a.mean())
    assert paired_bootstrap(a, b, seed=3) == (m, lo, hi)


def test_breaking_point_and_ce() -> None:
    assert breaking_point([1, 2, 3, 4, 5], [0.8, 0.7, 0.5, 0.4, 0.3], clean=0.9, chance=0.3) == pytest.approx(2.5)
    assert breaking_point([1, 2, 3], [0.9, 0.85, 0.8], clean=0.9, chance=0.25) is None
    assert corruption_error([0.1, 0.2], [0.2, 0.4]) == pytest.approx(0.5)


def _pred(item: str, clean: str, dim: str, sub: str, sev: int, ok: bool, model: str = "m") -> Prediction:
    return Prediction(item_id=item, clean_item_id=clean, frame_id="f", scene_id="s", dimension=dim, subtype=sub,
                      severity=sev, ability="recognition", qtype="color", format="mc", raw="A", score=float(ok),
                      correct=ok, chance=0.25, model=model)


def synthetic() -> list[Prediction]:
    preds = []
    for i in range(20):
        c = f"clean/{i}"
        preds.append(_pred(c, c, "none", "none", 0, True))
        for sev in (1, 3, 5):
            preds.append(_pred(f"l/{i}/{sev}", c, "lighting", "global_underexposure", sev, i >= 4 * sev))
            preds.append(_pred(f"v/{i}/{sev}", c, "viewpoint", "small_scale", sev, True))
    return preds


def test_summary_cells_flips_and_worst_dimension() -> None:
    s = summarize(synthetic())
    assert s["clean"]["accuracy"] == 1.0
    assert s["worst_dimension"]["dimension"] == "lighting"
    light = s["paired_by_dimension"]["lighting"]
    assert light["flip_correct_to_wrong"] == pytest.approx((4 + 12 + 20) / 60)
    assert light["flip_wrong_to_correct"] == 0
    assert s["by_subtype_severity"]["lighting/global_underexposure/5"]["accuracy"] == 0.0
    assert s["curves_by_subtype"]["lighting/global_underexposure"]["breaking_point"] == pytest.approx(1.875)  # (1, .8)-(3, .4) crosses .625
    assert s["stressed_macro_over_subtypes"] == pytest.approx((0.4 + 1.0) / 2)


def test_compare_gain() -> None:
    base = synthetic()
    better = [p.model_copy(update={"correct": True, "score": 1.0, "model": "agent"}) for p in base]
    c = compare(base, better)
    assert c["by_dimension"]["lighting"]["gain"] == pytest.approx(0.6)
    assert c["by_dimension"]["viewpoint"]["gain"] == 0
