"""The weights question types draw their options by, calibrated on the train split."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from robostress.benchmark.build import GENERATOR_VERSION
from robostress.questions import weighting
from robostress.questions.calibrate import calibrate, calibrated_types, fit_weights, misfit
from robostress.questions.weighting import (
    WEIGHT_TABLE,
    Draw,
    Sample,
    option_weights,
    weighted_choice,
    weighted_order,
)
from tests.models.test_prior import TRAIN_SEED

CALIBRATED = {"on", "nearest", "count", "move_first", "existence"}


def test_shipped_table_is_from_the_train_split_of_this_generator() -> None:
    table = json.loads(WEIGHT_TABLE.read_text())  # plain JSON
    assert table["generator"] == GENERATOR_VERSION, "refit: python -m robostress.questions.calibrate"
    lab = table["families"]["lab_tabletop"]
    assert lab["seed"] == TRAIN_SEED and lab["num_scenes"] >= 300
    assert set(lab["types"]) == CALIBRATED == set(calibrated_types())
    for qtype, entry in lab["types"].items():
        assert entry["questions"] >= lab["num_scenes"] // 2, (qtype, entry["questions"])
        assert option_weights("lab_tabletop", qtype) == entry["weights"]
        off = misfit(entry, min_target=15.0)
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


def test_calibrate_command_refuses_a_bad_scene_count_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from robostress.questions.calibrate import main

    for args in (["ten"], ["0"], ["5", "6"]):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "positive number of train scenes" in err


def test_weighted_order_draws_heavy_kinds_first_in_proportion() -> None:
    g = np.random.default_rng(0)
    firsts = Counter(("a", "b", "c")[weighted_order(g, ("a", "b", "c"), {"a": 6.0, "b": 2.0})[0]] for _ in range(4000))
    assert abs(firsts["a"] / 4000 - 6 / 9) < 0.03 and abs(firsts["c"] / 4000 - 1 / 9) < 0.03, firsts
    assert sorted(weighted_order(g, ("a", "b", "a"), {})) == [0, 1, 2]  # a kind may repeat: one entry per object
    for seed in range(20):  # one weighted pick is the first of a weighted order, from the same draws
        w = {"a": 6.0, "b": 2.0}
        assert weighted_choice(np.random.default_rng(seed), "abc", w) == weighted_order(np.random.default_rng(seed), "abc", w)[0]


def _offered_kinds(qtype: str, spec: Any, ctx: Any) -> set[str]:
    """The kinds (as each type's ``sample`` names them) that a proposed spec offers or asks about."""
    from robostress.questions.base import QUESTION_TYPES, desc
    from robostress.scene.assets import asset_catalog
    from robostress.scene.sample import catalogue_object

    if qtype == "nearest":
        return {ctx.obj(i).category for i in spec.subjects[1:]}
    if qtype == "count":
        return {f"{QUESTION_TYPES.get(qtype).truth(spec, ctx)}:{spec.params['category']}"}
    if qtype == "existence":
        return {f"{spec.params['colour']} {spec.params['category']}"} if spec.key.endswith("absent") else set()
    if qtype == "on":  # wrong kinds weighted per side: where the truth is a support, or an object
        side = "support:" if QUESTION_TYPES.get(qtype).truth(spec, ctx).startswith("the ") else "object:"
        return {side + o.split(" ", 1)[1] for o in spec.options if o.startswith(("a ", "an "))}
    names = {desc(o): o.category for o in ctx.plan.objects}
    names |= {desc(o): o.category for o in map(catalogue_object, asset_catalog().assets) if desc(o) not in names}
    return {names[o] for o in spec.options if o in names}


@pytest.mark.parametrize("qtype", sorted(CALIBRATED))
@pytest.mark.slow
def test_each_type_draws_what_its_sample_describes_by_the_weights(qtype: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``sample`` describes the draw ``propose`` makes: with one candidate kind weighted a
    million times the others, the question offers it (or asks about it) every time."""
    from robostress.questions.base import QUESTION_TYPES, FrameContext, Slots
    from robostress.render.boxes import box_render
    from robostress.scene.sample import sample_scene
    from robostress.seeding import rng

    qt = QUESTION_TYPES.get(qtype)
    checked = 0
    for i in range(40):
        plan = sample_scene("lab_tabletop", 5, i)
        frame, arrays = box_render(plan)
        ctx = FrameContext(plan, frame, arrays, Slots.of(5, plan.scene_id, i))
        s = qt.sample(ctx, rng(5, plan.scene_id, "questions", qtype))  # type: ignore[attr-defined]
        if s is None or s.draw is None or len(set(s.draw.candidates)) <= s.draw.k:
            continue
        favoured = sorted(set(s.draw.candidates))[i % len(set(s.draw.candidates))]
        monkeypatch.setattr(weighting, "_table", lambda fav=favoured: {"lab_tabletop": {qtype: {fav: 1e6}}})
        specs = qt.propose(ctx, rng(5, plan.scene_id, "questions", qtype))
        assert any(favoured in _offered_kinds(qtype, sp, ctx) for sp in specs), (plan.scene_id, favoured, specs)
        checked += 1
    assert checked >= 5, checked
