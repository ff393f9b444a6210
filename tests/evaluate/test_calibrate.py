"""Calibrating the weights question types draw their options by, on the train split
(``robostress.evaluate.calibrate``; the draws themselves are tested in tests/questions/test_weighting.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from robostress.benchmark.build import GENERATOR_VERSION
from robostress.evaluate.calibrate import (
    calibrate,
    calibrated_types,
    fit_weights,
    format_acceptance,
    format_fit,
    misfit,
)
from robostress.questions import weighting
from robostress.questions.acceptance import ACCEPTANCE_TABLE
from robostress.questions.weighting import WEIGHT_TABLE, Draw, Sample, option_weights
from tests.models.test_prior import TRAIN_SEED
from tests.questions.test_weighting import CALIBRATED

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_table_is_from_the_train_split_of_this_generator() -> None:
    table = json.loads(WEIGHT_TABLE.read_text())  # plain JSON
    assert table["generator"] == GENERATOR_VERSION, "refit: robostress calibrate"
    lab = table["families"]["lab_tabletop"]
    assert lab["seed"] == TRAIN_SEED and lab["num_scenes"] >= 300
    assert set(lab["types"]) == CALIBRATED == set(calibrated_types())
    for qtype, entry in lab["types"].items():
        # count (g8) is asked only where the instances are plainly visible, and a scene without a
        # plainly visible multiple asks its 0 or 1 every other time: about 0.45 a scene
        least = lab["num_scenes"] * (2 if qtype == "count" else 1) // (5 if qtype == "count" else 2)
        assert entry["questions"] >= least, (qtype, entry["questions"])
        assert option_weights("lab_tabletop", qtype) == entry["weights"]
        off = misfit(entry, min_target=10.0 if qtype == "count" else 15.0)  # count: fewer questions (above)
        # offered in proportion to the truth; in 'nearest', objects often the answer hit the weight
        # bound where only three are farther (a plate, rarely the answer, is offered about 1.3x its target)
        assert len(off) >= 8 and max(off.values()) <= (0.4 if qtype == "nearest" else 0.25), (qtype, off)
    assert option_weights("tabletop", "on") == {} and option_weights("lab_tabletop", "colour") == {}


def test_calibration_offers_each_kind_in_proportion_to_its_truth() -> None:
    """'b' is the truth twice as often as 'a' or 'c'; each question has one wrong slot, drawn from
    the other two kinds. Drawn uniformly, 'b' would be offered as often as the others (20 of 40
    wrong offers against a target of 20; two options, one wrong); calibrated, every kind's
    expected wrong offers meet (options - 1) x its truths."""
    recs = [Sample(Draw(("b", "c"), 1), {"a": 1.0})] * 10 + [Sample(Draw(("a", "c"), 1), {"b": 1.0})] * 20 \
        + [Sample(Draw(("a", "b"), 1), {"c": 1.0})] * 10
    w, exp, target = calibrate(recs)
    assert target == {"a": 10.25, "b": 20.25, "c": 10.25}
    assert w["b"] > 2 * w["a"] and abs(w["a"] / w["c"] - 1) < 0.1, w
    for k in "abc":
        assert abs(exp[k] - target[k]) / target[k] < 0.1, (exp, target)
    assert abs(sum(exp.values()) - 40) < 1e-6
    uniform, _, _ = calibrate(recs, iterations=0)
    assert set(uniform.values()) == {1.0}


def test_offers_the_weights_cannot_move_count_as_they_are() -> None:
    """A draw with no more candidates than slots offers them all; fixed offers are added as given."""
    recs = [Sample(Draw(("a", "b"), 2), {"a": 1.0}, {"c": 0.5})] * 4
    _, exp, _ = calibrate(recs)
    assert exp == {"a": 4.0, "b": 4.0, "c": 2.0}


@pytest.mark.slow
def test_fit_writes_the_table_option_weights_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "options.json"
    table = fit_weights(["lab_tabletop"], 7, 3, out=out, progress=False)
    assert json.loads(out.read_text()) == table
    lab = table["families"]["lab_tabletop"]
    assert set(lab["types"]) == CALIBRATED
    assert lab["types"]["on"]["questions"] == 3
    for entry in lab["types"].values():
        assert all(v > 0 for v in entry["weights"].values())
        assert set(entry["weights"]) == set(entry["target_offers"]) == set(entry["expected_offers"])
    monkeypatch.setattr(weighting, "WEIGHT_TABLE", out)
    weighting.clear_cache()
    try:
        assert option_weights("lab_tabletop", "on") == lab["types"]["on"]["weights"]
    finally:
        monkeypatch.undo()
        weighting.clear_cache()


@pytest.mark.slow
def test_calibrate_command_writes_the_table_and_prints_each_type(tmp_path: Path) -> None:
    """``robostress calibrate``, real Hydra composition: the table goes where ``out`` says (the
    shipped one is untouched), one line per type is printed."""
    shipped = WEIGHT_TABLE.read_bytes(), ACCEPTANCE_TABLE.read_bytes()
    out = tmp_path / "w" / "options.json"
    r = subprocess.run([sys.executable, "-m", "robostress.cli.main", "calibrate", "num_scenes=2", f"out={out}",
                        "progress=false"], env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    table = json.loads(out.read_text())
    assert table["families"]["lab_tabletop"]["seed"] == TRAIN_SEED
    assert set(table["families"]["lab_tabletop"]["types"]) == CALIBRATED
    accepted = json.loads((out.parent / "acceptance.json").read_text())
    assert accepted["families"]["lab_tabletop"]["num_scenes"] == 2
    printed = r.stdout.splitlines()  # both tables printed, then the log line (the files' keys are sorted)
    assert sorted(printed[:-1]) == sorted(format_fit(table).splitlines() + format_acceptance(accepted).splitlines())
    assert printed[-1].endswith(f"weights written to {out}, acceptance factors to {out.parent / 'acceptance.json'}")
    assert (WEIGHT_TABLE.read_bytes(), ACCEPTANCE_TABLE.read_bytes()) == shipped
