"""Interaction of two factors on synthetic compound runs with hand-checkable values
(tests/metrics/synthetic.py: COMPOUND_PAIRS)."""

from __future__ import annotations

import numpy as np
import pytest

from robostress.errors import DataError
from robostress.metrics import Summary, summarize
from robostress.metrics.interaction import interactions
from robostress.metrics.stats import cluster_bootstrap, cluster_bootstrap_draws
from tests.metrics.synthetic import compound_run, synthetic

SUPER = "lighting+viewpoint"
ADD = "material+geometry"


@pytest.fixture(scope="module")
def run():  # type: ignore[no-untyped-def]
    return compound_run()


def test_super_additive_pair(run) -> None:  # type: ignore[no-untyped-def]
    c = interactions(run, resamples=500).by_pair[SUPER]
    assert (c.n_quads, c.n_scenes, c.n_clean_twins) == (60, 6, 60)
    assert (c.clean_accuracy, c.a_accuracy, c.b_accuracy, c.compound_accuracy) == (1.0, 0.8, 0.8, 0.4)
    assert c.drop_compound == pytest.approx(0.6) and c.drop_a == pytest.approx(0.2)
    assert c.additive == pytest.approx(0.2) and c.multiplicative == pytest.approx(0.24)
    assert c.additive_ci95[0] > 0 and c.additive_flag == "super-additive"
    assert c.multiplicative_ci95[0] > 0 and c.multiplicative_flag == "super-multiplicative"
    assert c.combination_only_flips == pytest.approx(0.2)
    assert c.additive_mdi == pytest.approx(2.80 * c.additive_se, rel=1e-3) and c.additive_se > 0


def test_an_exactly_additive_pair_is_not_flagged_additive_but_is_super_multiplicative(run) -> None:  # type: ignore[no-untyped-def]
    c = interactions(run, resamples=500).by_pair[ADD]
    assert c.compound_accuracy == pytest.approx(0.6)
    assert c.additive == pytest.approx(0.0, abs=1e-12) and c.additive_ci95 == pytest.approx((0.0, 0.0), abs=1e-12)
    assert c.additive_flag == "not detected" and c.combination_only_flips == 0.0
    assert c.multiplicative == pytest.approx(0.04) and c.multiplicative_flag == "super-multiplicative"


def test_groups_by_pair_and_subtype_pair(run) -> None:  # type: ignore[no-untyped-def]
    it = interactions(run, resamples=200)
    assert it.n_compound == it.n_quads == 120
    assert list(it.by_pair) == sorted([SUPER, ADD])
    assert list(it.by_subtype_pair) == sorted([f"{SUPER}/global_underexposure+small_scale",
                                               f"{ADD}/dark_absorptive+occlusion"])


def test_a_compound_without_a_twin_is_counted_but_not_a_quadruple(run) -> None:  # type: ignore[no-untyped-def]
    gone = "s0/small_scale/s3/q0"
    it = interactions([p for p in run if p.item_id != gone], resamples=200)
    assert it.n_compound == 120 and it.n_quads == 119 and it.by_pair[SUPER].n_quads == 59
    assert interactions(synthetic()) is None


def test_the_summary_keeps_compounds_out_of_the_single_factor_groups(run) -> None:  # type: ignore[no-untyped-def]
    s = summarize(run, resamples=200)
    assert set(s.by_dimension) == {"lighting", "viewpoint", "material", "geometry"}
    assert s.n_stressed == 240 and s.n_clean == 60 and s.n_predictions == 60 + 240 + 120
    assert s.interaction is not None and s.interaction.by_pair[SUPER].additive == pytest.approx(0.2)
    back = Summary.from_dict(s.to_dict())
    assert back == s
    plain = summarize(synthetic(), resamples=200)
    assert plain.interaction is None and "interaction" not in plain.to_dict()


def test_a_compound_whose_factor_twin_is_clean_is_refused(run) -> None:  # type: ignore[no-untyped-def]
    bad = [p.model_copy(update={"factor_item_ids": (p.clean_item_id, p.factor_item_ids[1])})
           if p.factor_item_ids and p.item_id.startswith("s0/global") else p for p in run]
    with pytest.raises(DataError, match="not a single-factor item"):
        summarize(bad, resamples=50)


def test_multi_column_draws_are_the_one_column_bootstrap_column_by_column() -> None:
    g = np.random.default_rng(0)
    x = g.integers(0, 2, (80, 1)).astype(float)
    scenes, fams = [i % 5 for i in range(80)], [i % 17 for i in range(80)]
    d = cluster_bootstrap_draws(x, scenes, fams, seed=3, resamples=300)
    one = cluster_bootstrap(x[:, 0], scenes, fams, seed=3, resamples=300)
    assert float(d.means[:, 0].std()) == one.se and (d.n_scenes, d.n_families) == (one.n_scenes, one.n_families)
    two = cluster_bootstrap_draws(np.column_stack([x[:, 0], 1 - x[:, 0]]), scenes, fams, seed=3, resamples=300)
    assert np.allclose(two.means.sum(1), 1.0)  # both columns drawn from the same resampled items
    with pytest.raises(DataError):
        cluster_bootstrap_draws(x[:, 0], scenes, fams)
