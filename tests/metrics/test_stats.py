"""Statistics against textbook values, hand-computed cases, independent implementations and
simulation (coverage of clustered data, power of the minimum detectable drop)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from robostress.errors import DataError
from robostress.metrics import (
    breaking_point,
    chance_band,
    cluster_bootstrap,
    corruption_error,
    minimum_detectable_drop,
    paired_bootstrap,
    relative_robustness,
    wilson,
)
from robostress.metrics.stats import (
    _draw_indices,
    _draw_multinomial,
    _family_totals,
    _two_stage_means,
)


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


# -- two-stage cluster bootstrap (scenes, then clean-twin families) ---------------------------------
def test_two_stage_bootstrap_distribution_by_hand() -> None:
    """Scene A holds families worth 1 and 0, scene B one family worth 1 (one item each).

    Scenes drawn: AA (1/4), AB (1/2), BB (1/4); each copy of A redraws its two families. The mean
    is 1 for BB; for AB it is (Bin(2, 1/2) + 1) / 3; for AA Bin(4, 1/2) / 4. So P(mean = 1) =
    1/4 + 1/2 * 1/4 + 1/4 * 1/16 = 0.390625 and P(mean = 0) = 1/4 * 1/16 = 0.015625.
    """
    by_scene = _family_totals(np.array([1.0, 0.0, 1.0]), ["A", "A", "B"], ["f1", "f2", "f3"])
    means = _two_stage_means(np.random.default_rng(0), by_scene, 400_000)
    assert (means == 1).mean() == pytest.approx(0.390625, abs=0.003)
    assert (means == 0).mean() == pytest.approx(0.015625, abs=0.001)
    assert (np.isclose(means, 1 / 3)).mean() == pytest.approx(0.5 * 0.25, abs=0.002)
    est = cluster_bootstrap([1, 0, 1], ["A", "A", "B"], ["f1", "f2", "f3"], seed=1)
    assert (est.value, est.n, est.n_scenes, est.n_families) == (pytest.approx(2 / 3), 3, 2, 3)


def test_two_stage_bootstrap_single_family_scenes_is_the_plain_bootstrap() -> None:
    """With one item per scene the two stages reduce to resampling items: SE = sd / sqrt(n)."""
    x = np.r_[np.ones(30), np.zeros(70)]
    est = cluster_bootstrap(x, np.arange(100), np.arange(100), seed=2, resamples=20000)
    assert est.se == pytest.approx(np.sqrt(0.3 * 0.7 / 100), rel=0.03)
    assert est.lo == pytest.approx(0.21, abs=0.011) and est.hi == pytest.approx(0.39, abs=0.011)


def test_cluster_bootstrap_is_seeded_and_order_free() -> None:
    g = np.random.default_rng(4)
    x, sc, fa = (g.random(300) < 0.6).astype(float), g.integers(0, 12, 300), g.integers(0, 40, 300)
    est = cluster_bootstrap(x, sc, fa, seed=3)
    perm = g.permutation(300)
    assert cluster_bootstrap(x[perm], sc[perm], fa[perm], seed=3) == est
    assert cluster_bootstrap(x, sc, fa, seed=4) != est
    with pytest.raises(DataError, match="labels"):
        cluster_bootstrap(x, sc[:10], fa)
    with pytest.raises(DataError, match="non-empty"):
        cluster_bootstrap([], [], [])


def _clustered_run(g: np.random.Generator, n_scenes: int = 30) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                          np.ndarray]:
    """Clean outcome, stressed outcome, scene and family per pair, with a strong scene effect.

    Each scene has 4 clean items (families) with 5 stressed versions each. A scene is either
    robust (a correct answer survives the stress w.p. 0.9) or fragile (w.p. 0.2), half and half;
    clean items are correct w.p. 0.9. True drop = 0.9 * (1 - 0.55) = 0.405.
    """
    scenes = np.repeat(np.arange(n_scenes), 20)
    families = np.repeat(np.arange(n_scenes * 4), 5)
    survive = np.where(g.random(n_scenes) < 0.5, 0.9, 0.2)[scenes]
    clean = np.repeat((g.random(n_scenes * 4) < 0.9).astype(float), 5)
    stressed = clean * (g.random(len(scenes)) < survive)
    return clean, stressed, scenes, families


@pytest.mark.slow
def test_scene_bootstrap_covers_a_clustered_drop_where_item_and_family_bootstraps_do_not() -> None:
    """Coverage of the true drop (0.405) over 300 simulated benchmarks of 30 scenes."""
    g = np.random.default_rng(21)
    truth, hits = 0.9 * 0.45, {"scene": 0, "family": 0, "item": 0}
    for s in range(300):
        clean, stressed, scenes, families = _clustered_run(g)
        est = cluster_bootstrap(clean - stressed, scenes, families, seed=s, resamples=1000)
        hits["scene"] += est.lo <= truth <= est.hi
        lo, hi = paired_bootstrap(stressed, clean, clusters=families, seed=s, resamples=1000)[1:]
        hits["family"] += lo <= truth <= hi
        lo, hi = paired_bootstrap(stressed, clean, seed=s, resamples=1000)[1:]
        hits["item"] += lo <= truth <= hi
    cover = {k: v / 300 for k, v in hits.items()}
    assert 0.90 <= cover["scene"] <= 0.985, cover
    assert cover["family"] <= 0.80 and cover["item"] <= 0.75, cover


@pytest.mark.slow
def test_scene_bootstrap_covers_clustered_accuracy_where_wilson_does_not() -> None:
    """Stressed accuracy (true 0.9 * 0.55 = 0.495) of the same runs: Wilson is far too narrow."""
    g = np.random.default_rng(22)
    truth, scene_hits, wilson_hits = 0.9 * 0.55, 0, 0
    for s in range(300):
        _, stressed, scenes, families = _clustered_run(g)
        est = cluster_bootstrap(stressed, scenes, families, seed=s, resamples=1000)
        scene_hits += est.lo <= truth <= est.hi
        lo, hi = wilson(stressed.sum(), len(stressed))
        wilson_hits += lo <= truth <= hi
    assert 0.90 <= scene_hits / 300 <= 0.985 and wilson_hits / 300 <= 0.75, (scene_hits, wilson_hits)


def test_minimum_detectable_drop_has_80_percent_power() -> None:
    """A true drop equal to the MDD of a design is detected (interval excludes 0) about 80% of the time."""
    g = np.random.default_rng(23)
    scenes, families = np.repeat(np.arange(40), 10), np.repeat(np.arange(200), 2)

    def run(drop: float) -> np.ndarray:
        """Paired differences in {-1, 0, 1}: per scene a drop d_s ~ N(drop, 0.1), and per pair
        P(+1) = 0.25 + d_s / 2, P(-1) = 0.25 - d_s / 2 (flips both ways), so E = d_s."""
        d = np.clip(drop + g.normal(0, 0.1, 40), -0.5, 0.5)[scenes]
        u = g.random(400)
        return (u < 0.25 + d / 2).astype(float) - ((u >= 0.25 + d / 2) & (u < 0.5)).astype(float)

    mdd = np.mean([minimum_detectable_drop(cluster_bootstrap(run(0.0), scenes, families, seed=s,
                                                             resamples=500).se) for s in range(20)])
    detected = sum(cluster_bootstrap(run(mdd), scenes, families, seed=s, resamples=500).lo > 0
                   for s in range(200))
    assert minimum_detectable_drop(0.05) == pytest.approx(0.05 * 2.8016, abs=1e-4)
    assert 0.68 <= detected / 200 <= 0.92, (mdd, detected)


def test_chance_band_by_hand() -> None:
    # 100 items at chance 0.25: the exact binomial central 95% interval, from the pmf by hand
    pmf = [math.comb(100, k) * 0.25**k * 0.75 ** (100 - k) for k in range(101)]
    lo_k = max(k for k in range(101) if sum(pmf[:k]) <= 0.025)
    hi_k = min(k for k in range(101) if sum(pmf[k + 1:]) <= 0.025)
    assert (lo_k, hi_k) == (17, 34)
    assert chance_band([0.25] * 100) == pytest.approx((0.17, 0.34))
    # a rare event: 152 boxes at chance 0.0004 expect 0.06 hits, and one hit (p = 6 %) is inside the
    # band; the normal approximation's band [0, 0.3 %] put it outside
    assert chance_band([0.0004] * 152)[1] == pytest.approx(1 / 152)
    # mixed probabilities: the exact band agrees with 200 000 simulated random answerers
    g = np.random.default_rng(3)
    ps = g.uniform(0, 0.6, 300)
    sim = (g.random((200_000, 300)) < ps).mean(axis=1)
    lo, hi = chance_band(ps)
    assert 0.95 <= np.mean((sim >= lo - 1e-12) & (sim <= hi + 1e-12)) <= 0.975
    # a huge cell falls back to the normal approximation
    lo, hi = chance_band([0.5] * 200_000)
    assert (lo, hi) == pytest.approx((0.5 - 1.96 * math.sqrt(0.25 / 200_000), 0.5 + 1.96 * math.sqrt(0.25 / 200_000)), abs=1e-5)
    assert chance_band([0.0, 0.0]) == (0.0, 0.0) and chance_band([1.0]) == (1.0, 1.0)
    with pytest.raises(DataError, match="probabilities"):
        chance_band([1.5])
