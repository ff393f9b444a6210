"""The weights 'on' draws its wrong kinds with, calibrated on the train split."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from robostress.benchmark.build import GENERATOR_VERSION
from robostress.questions.calibrate import Record, calibrate, fit_supports
from robostress.questions.spatial import SUPPORT_TABLE, _weighted_order, support_weights
from tests.models.test_prior import TRAIN_SEED


def test_shipped_table_is_from_the_train_split_of_this_generator() -> None:
    table = json.loads(SUPPORT_TABLE.read_text())  # plain JSON
    assert table["generator"] == GENERATOR_VERSION, "refit: python -m robostress.questions.calibrate"
    lab = table["families"]["lab_tabletop"]
    assert lab["seed"] == TRAIN_SEED and lab["num_scenes"] >= 300 and lab["questions"] >= 290
    assert support_weights("lab_tabletop") == lab["weights"]
    assert support_weights("tabletop") == {}  # no stacks there: equal weights
    off = {k: abs(lab["expected_wrong_offers"][k] - t) / t for k, t in lab["target_wrong_offers"].items() if t >= 20}
    assert len(off) >= 8 and max(off.values()) <= 0.25, off  # kinds often the truth are offered in proportion


def test_calibration_offers_each_kind_in_proportion_to_its_truth() -> None:
    """'b' is the truth twice as often as 'a' or 'c'; each question has one wrong slot, drawn from
    the other two kinds. Drawn uniformly, 'b' would be offered as often as the others (20 of 40
    wrong offers against a target of 20; two options, one wrong); calibrated, every kind's expected wrong offers meet
    (options - 1) x its truths."""
    recs = [Record("a", ("b", "c"), (), 1, 2)] * 10 + [Record("b", ("a", "c"), (), 1, 2)] * 20 \
        + [Record("c", ("a", "b"), (), 1, 2)] * 10
    w, exp, target = calibrate(recs)
    assert target == {"a": 10.25, "b": 20.25, "c": 10.25}
    assert w["b"] > 2 * w["a"] and abs(w["a"] / w["c"] - 1) < 0.1, w
    for k in "abc":
        assert abs(exp[k] - target[k]) / target[k] < 0.1, (exp, target)
    assert abs(sum(exp.values()) - 40) < 1e-6
    uniform, _, _ = calibrate(recs, iterations=0)
    assert set(uniform.values()) == {1.0}


def test_fit_writes_the_table_support_weights_reads(tmp_path: Path) -> None:
    out = tmp_path / "supports.json"
    table = fit_supports(["lab_tabletop"], 7, 3, out=out, progress=False)
    assert json.loads(out.read_text()) == table
    lab = table["families"]["lab_tabletop"]
    assert lab["questions"] == 3 and all(v > 0 for v in lab["weights"].values())
    assert set(lab["weights"]) == set(lab["target_wrong_offers"])
    support_weights.cache_clear()


def test_calibrate_command_refuses_a_bad_scene_count_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from robostress.questions.calibrate import main

    for args in (["ten"], ["0"], ["5", "6"]):
        assert main(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "give one positive number of train scenes" in err[0]


def test_weighted_order_draws_heavy_kinds_first_in_proportion() -> None:
    g = np.random.default_rng(0)
    firsts = Counter(_weighted_order(g, ("a", "b", "c"), {"a": 6.0, "b": 2.0})[0] for _ in range(4000))
    assert abs(firsts["a"] / 4000 - 6 / 9) < 0.03 and abs(firsts["b"] / 4000 - 2 / 9) < 0.03  # 'c' weighs 1
    assert sorted(_weighted_order(g, ("a", "b", "c"), {})) == ["a", "b", "c"]
