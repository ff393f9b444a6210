"""The weights question types draw their options by (``robostress.questions.weighting``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

from robostress.questions import weighting
from robostress.questions.weighting import weighted_choice, weighted_order

CALIBRATED = {"on", "nearest", "count", "move_first", "existence"}  # types drawing by calibrated weights


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
    from robostress.scene.catalogue import catalogue_object

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
    from robostress.questions.boxes import box_render
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
