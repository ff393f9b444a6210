"""Option weights and acceptance factors per scene family (issue 24): household has its own
entries, fitted on its own train scenes, and fitting one family keeps the others' byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from robostress.evaluate.calibrate import _write, calibrated_types, fit_weights
from robostress.questions import acceptance as acc
from robostress.questions.acceptance import ACCEPTANCE_TABLE, entry_for
from robostress.questions.boxes import box_render
from robostress.questions.generate import plan_questions
from robostress.questions.weighting import WEIGHT_TABLE, option_weights
from robostress.scene import assets as A
from robostress.scene.sample import sample_scene
from tests.models.test_prior import TRAIN_SEED

ACCEPTED = {"color", "move_first", "next_action", "on"}  # the types g9 keeps by acceptance
needs_assets = pytest.mark.skipif(not A.assets_available(), reason="asset packages not installed")


def test_shipped_tables_hold_household_fitted_on_its_train_scenes() -> None:
    weights, accepted = json.loads(WEIGHT_TABLE.read_text()), json.loads(ACCEPTANCE_TABLE.read_text())
    assert set(weights["families"]) == set(accepted["families"]) == {"lab_tabletop", "household"}
    for table in (weights, accepted):
        hh = table["families"]["household"]
        assert hh["seed"] == TRAIN_SEED and hh["num_scenes"] >= 300
    hh_w = weights["families"]["household"]["types"]
    assert set(hh_w) == set(calibrated_types())
    for qtype, entry in hh_w.items():
        assert entry["questions"] >= 50 and option_weights("household", qtype) == entry["weights"]
        assert option_weights("household", qtype) != option_weights("lab_tabletop", qtype)
    hh_a = accepted["families"]["household"]["types"]
    assert set(hh_a) == ACCEPTED
    for qtype, entry in hh_a.items():
        assert entry_for("household", qtype) == entry and entry["records"] >= 100
        assert entry["share_max"][1] < entry["share_max"][0]  # the fit narrows the worst cell's excess
        assert entry_for("household", qtype) != entry_for("lab_tabletop", qtype)


@needs_assets
def test_household_questions_are_kept_by_households_factors() -> None:
    """Household questions of the accepted types are decided by household's own entry: some are
    kept with a probability below one, as lab's are by lab's."""
    probs = []
    for i in range(3):
        plan = sample_scene("household", 7, i)
        frame, arrays = box_render(plan)
        recs: list[tuple[str, acc.Record]] = []
        plan_questions(plan, frame, 7, arrays, i, records=recs)
        probs += [acc.acceptance(entry_for("household", qt), r) for qt, r in recs]  # type: ignore[arg-type]
    assert probs and all(0 < p <= 1 for p in probs) and min(probs) < 1


@needs_assets
def test_fitting_one_family_keeps_the_others_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "options.json"
    out.write_bytes(WEIGHT_TABLE.read_bytes())
    _write(out, {})  # the shipped table reads back and writes out as it was
    assert out.read_bytes() == WEIGHT_TABLE.read_bytes()
    before = json.loads(out.read_text())["families"]
    table = fit_weights(["household"], 7, 2, out=out, progress=False)
    after = json.loads(out.read_text())
    assert after == table and after["families"]["household"]["num_scenes"] == 2
    assert json.dumps(after["families"]["lab_tabletop"], indent=1, sort_keys=True) == \
        json.dumps(before["lab_tabletop"], indent=1, sort_keys=True)
    assert f'"lab_tabletop": {json.dumps(before["lab_tabletop"], indent=1, sort_keys=True)}'.replace("\n", "\n  ") \
        in out.read_text()
