"""Statistics against textbook values, independent implementations and simulation."""

from __future__ import annotations

import numpy as np
import pytest

from robostress.errors import DataError
from robostress.metrics import (
    breaking_point,
    corruption_error,
    paired_bootstrap,
    relative_robustness,
    wilson,
)
from robostress.metrics.stats import _draw_indices, _draw_multinomial


def test_wilson_matches_textbook_values() -> None:
    # Newcombe (1998), Table I / Agresti & Coull (1998): 95% Wilson score intervals
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)


def test_wilson_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for k, n in ((0, 10), (1, 10), (5, 10), (37, 120), (999, 1000)):
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert wilson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-9)


def test_wilson_rejects_impossible_counts() -> None:
    with pytest.raises(DataError, match="0 <= k <= n"):
        wilson(11, 10)


def _pairs(g: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Clean correct w.p. 0.8; a correct answer breaks w.p. 0.25, a wrong one heals w.p. 0.1."""
    a = (g.random(n) < 0.8).astype(float)
    u = g.random(n)
    b = np.where(a == 1, u >= 0.25, u < 0.1).astype(float)
    return a, b


def test_paired_bootstrap_is_seeded_order_invariant_and_covers_the_truth() -> None:
    g = np.random.default_rng(7)
    a, b = _pairs(g, 300)
    est = paired_bootstrap(a, b, seed=3)
    assert est.value == pytest.approx(b.mean() - a.mean()) and est.lo < est.value < est.hi
    assert paired_bootstrap(a, b, seed=3) == est
    perm = g.permutation(300)
    assert paired_bootstrap(a[perm], b[perm], seed=3) == est
    true_diff = 0.8 * -0.25 + 0.2 * 0.1
    covered = sum(lo <= true_diff <= hi for _, lo, hi in
                  (paired_bootstrap(*_pairs(g, 200), seed=s, resamples=1000) for s in range(300)))
    assert 0.91 <= covered / 300 <= 0.985


def test_cluster_bootstrap_covers_where_the_pair_bootstrap_does_not() -> None:
    """40 clean twins with 10 stressed versions each: the twin's outcome is shared by its pairs."""
    g = np.random.default_rng(11)
    truth, hits_cluster, hits_pairs = 0.7 - 0.5, 0, 0
    clusters = np.repeat(np.arange(40), 10)
    for s in range(200):
        a = np.repeat((g.random(40) < 0.7).astype(float), 10)
        b = (g.random(400) < 0.5).astype(float)
        lo, hi = paired_bootstrap(b, a, clusters=clusters, seed=s, resamples=1000)[1:]
        hits_cluster += lo <= truth <= hi
        lo, hi = paired_bootstrap(b, a, seed=s, resamples=1000)[1:]
        hits_pairs += lo <= truth <= hi
    assert hits_cluster / 200 >= 0.88 and hits_pairs / 200 <= 0.8


def test_multinomial_draws_match_resampling_indices() -> None:
    """Collapsing identical clusters into multinomial counts is exact: both samplers give the same
    bootstrap distribution, and the public function agrees with a direct index bootstrap."""
    g = np.random.default_rng(5)
    clusters = g.integers(0, 60, 500)
    a = (g.random(500) < 0.75).astype(float)
    b = a * (g.random(500) < 0.8)
    ids = np.unique(clusters)
    sums = np.array([(b - a)[clusters == c].sum() for c in ids])
    sizes = np.array([(clusters == c).sum() for c in ids], float)
    kinds, mult = np.unique(np.stack([sums, sizes], 1), axis=0, return_counts=True)
    q = [2.5, 25, 50, 75, 97.5]
    multi = np.percentile(_draw_multinomial(np.random.default_rng(1), sums, sizes, kinds, mult, 20000), q)
    index = np.percentile(_draw_indices(np.random.default_rng(2), sums, sizes, kinds, mult, 20000), q)
    assert multi == pytest.approx(index, abs=0.004)
    mine = paired_bootstrap(a, b, clusters=clusters, seed=1, resamples=20000)
    assert (mine.lo, mine.hi) == pytest.approx((index[0], index[-1]), abs=0.004)
    # 0/1 pairs without clusters collapse to at most three kinds: still the plain pair bootstrap
    plain = paired_bootstrap(a, b, seed=4, resamples=20000)
    direct = np.percentile((b - a)[np.random.default_rng(3).integers(0, 500, (20000, 500))].mean(1), [2.5, 97.5])
    assert (plain.lo, plain.hi) == pytest.approx(tuple(direct), abs=0.004)


def test_paired_bootstrap_handles_continuous_scores_quickly() -> None:
    g = np.random.default_rng(9)
    a, b = g.random(20000), g.random(20000) - 0.05  # e.g. IoU of boxes: every value distinct
    est = paired_bootstrap(a, b, seed=0)
    assert est.lo < -0.05 < est.hi and est.hi - est.lo < 0.02


def test_paired_bootstrap_rejects_bad_input() -> None:
    with pytest.raises(DataError, match="equal-length"):
        paired_bootstrap([1, 0], [1])
    with pytest.raises(DataError, match="at least one pair"):
        paired_bootstrap([], [])
    with pytest.raises(DataError, match="cluster labels"):
        paired_bootstrap([1, 0], [1, 1], clusters=["x"])


def test_breaking_point_interpolates_the_first_crossing() -> None:
    # halfway from 0.9 to 0.3 is 0.6: between (2, 0.7) and (3, 0.5) -> 2.5
    assert breaking_point([1, 2, 3, 4, 5], [0.8, 0.7, 0.5, 0.4, 0.3], clean=0.9, chance=0.3) == pytest.approx(2.5)
    # first crossing counts, even if the curve recovers later; severities may be sparse
    assert breaking_point([1, 3, 5], [0.7, 0.2, 0.9], clean=0.8, chance=0.2) == pytest.approx(1 + 2 * 0.2 / 0.5)
    # crossing between the clean point (0, 1.0) and severity 1
    assert breaking_point([1, 2], [0.0, 0.0], clean=1.0, chance=0.5) == pytest.approx(0.25)
    # landing exactly on the level at a measured severity
    assert breaking_point([1, 2], [0.8, 0.6], clean=1.0, chance=0.2) == pytest.approx(2.0)


def test_breaking_point_never_reached_or_undefined() -> None:
    assert breaking_point([1, 2, 3], [0.9, 0.85, 0.8], clean=0.9, chance=0.25) is None
    assert breaking_point([1, 2], [0.1, 0.1], clean=0.25, chance=0.25) is None  # nothing to fall
    with pytest.raises(DataError, match="increasing"):
        breaking_point([2, 1], [0.5, 0.5], clean=0.9, chance=0.2)
    with pytest.raises(DataError, match="accuracies"):
        breaking_point([1, 2], [0.5], clean=0.9, chance=0.2)


def test_corruption_error_by_hand() -> None:
    # model errors 0.1, 0.3, 0.5 vs reference 0.4, 0.6, 0.8: 0.9 / 1.8
    assert corruption_error([0.1, 0.3, 0.5], [0.4, 0.6, 0.8]) == pytest.approx(0.5)
    assert corruption_error([0.2], [0.0]) is None  # a perfect reference leaves CE undefined
    with pytest.raises(DataError, match="same severities"):
        corruption_error([0.1, 0.2], [0.3])
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        corruption_error([1.5], [0.5])


def test_relative_robustness() -> None:
    assert relative_robustness(0.6, 0.8) == pytest.approx(0.75)
    assert relative_robustness(0.6, 0.0) is None and relative_robustness(None, 0.8) is None
    assert relative_robustness(0.0, 0.5) == 0.0
