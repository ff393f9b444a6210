"""Answer balance per question type over many sampled scenes: letters and truth values.

A text-only model can only beat chance where the truth is unevenly spread. Letters must be
uniform for every type; truth values (object names abstracted, see
``robostress.models.prior.normalise``) must be uniform for the types whose values the current
scenes can supply. ``on`` and ``count`` need scenes with stacks and repeated categories (see
``SCENE_LIMITED``) and are held to what the scenes allow.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from robostress.evaluate.leakage import truth_value
from robostress.questions import Item
from tests.questions.fakes import sampled_clean_items

TOL = 0.05  # points from uniform
VALUE_BALANCED = ("existence", "left_right", "front_behind", "ordering", "upright", "goal", "next_action")
SCENE_LIMITED = {"on": "objects resting on objects (stacks) and on every support",
                 "count": "categories present twice and three times on a support"}


@pytest.fixture(scope="module")
def items() -> dict[str, list[Item]]:
    by: dict[str, list[Item]] = defaultdict(list)
    for i in sampled_clean_items(seed=3, num_scenes=120):
        if i.format == "mc":
            by[i.qtype].append(i)
    return by


def shares(values: list[str]) -> dict[str, float]:
    c = Counter(values)
    return {k: v / len(values) for k, v in c.items()}


@pytest.mark.slow
def test_every_letter_is_right_equally_often_for_every_type(items: dict[str, list[Item]]) -> None:
    assert len(items) >= 12, sorted(items)
    for qtype, its in items.items():
        n_opt = len(its[0].options)
        assert len(its) >= 50, (qtype, len(its))
        s = shares([str(i.answer) for i in its])
        assert set(s) == set("ABCD"[:n_opt]), (qtype, s)
        assert all(abs(v - 1 / n_opt) <= TOL for v in s.values()), (qtype, s)


@pytest.mark.parametrize("qtype", VALUE_BALANCED)
@pytest.mark.slow
def test_truth_values_are_uniform(items: dict[str, list[Item]], qtype: str) -> None:
    s = shares([truth_value(i) for i in items[qtype]])
    assert len(s) >= 2, (qtype, s)
    assert all(abs(v - 1 / len(s)) <= TOL for v in s.values()), (qtype, s)


@pytest.mark.slow
def test_scene_limited_types_are_balanced_as_far_as_the_scenes_allow(items: dict[str, list[Item]]) -> None:
    count = shares([truth_value(i) for i in items["count"]])
    assert max(count.values()) < 0.5 and count.get("0", 0) > 0.25, count  # was '1' 74%
    assert all(sorted(i.options) == ["0", "1", "2", "3"] for i in items["count"])
    shelf = [truth_value(i) for i in items["on"] if i.scene_id.startswith("kitchen_shelf")]
    s = shares(shelf)
    assert set(s) == {"the counter", "the shelf"} and min(s.values()) > 0.3, s


def test_balance_holds_over_a_handful_of_scenes() -> None:
    """Letters come from a Latin square over scene ordinals: the first question of a type in
    each of 4 consecutive scenes has each of 4 letters once (each of 2 letters twice); of a
    three-option type (next_action), the first 3 scenes have each of its 3 letters once."""
    first: dict[str, dict[str, str]] = defaultdict(dict)  # qtype -> scene -> letter of its first question
    n_opts: dict[str, int] = {}
    for i in sampled_clean_items(seed=11, num_scenes=4, families=("tabletop",)):
        if i.format == "mc":
            first[i.qtype].setdefault(i.scene_id, str(i.answer))
            n_opts[i.qtype] = len(i.options)
    full = {q: Counter(list(v.values())[:3] if n_opts[q] == 3 else v.values()) for q, v in first.items()
            if len(v) == 4}
    assert len(full) >= 6, sorted(full)
    for qtype, c in full.items():
        assert len(set(c.values())) == 1 and len(c) == n_opts[qtype] and n_opts[qtype] in (2, 3, 4), (qtype, c)


@pytest.fixture(scope="module")
def lab() -> list[tuple[object, Item]]:
    """(plan, item) of the move_first and nearest items of 40 sampled lab scenes."""
    from robostress.questions import generate_items
    from robostress.questions.boxes import box_render
    from robostress.scene.sample import sample_scene

    out = []
    for i in range(40):
        plan = sample_scene("lab_tabletop", 5, i)
        frame, arrays = box_render(plan)
        out += [(plan, it) for it in generate_items(plan, frame, [(plan, frame, arrays)], 5, ordinal=i)[0]
                if it.qtype in ("move_first", "nearest")]
    return out


@pytest.mark.slow
def test_move_first_wrong_names_fit_on_the_object_like_the_answer(lab: list[tuple[object, Item]]) -> None:
    """Asked only about an object something could rest on or in, every option naming an object
    names one that would fit on or in it (present or from the catalogue), as the object on top
    does: its kind does not give it away (a book offered on a butter box never was the answer)."""
    from robostress.questions.base import desc
    from robostress.questions.spatial import could_rest
    from robostress.scene.assets import asset_catalog
    from robostress.scene.catalogue import catalogue_object

    catalogue = {desc(o): o for o in map(catalogue_object, asset_catalog().assets)}
    its = [(p, i) for p, i in lab if i.qtype == "move_first"]
    assert len(its) >= 15, len(its)
    absent = checked = 0
    for plan, it in its:
        base = next(o for o in plan.objects if desc(o) in it.question)
        names = {desc(o): o for o in plan.objects}
        for opt in it.options:
            if opt.startswith("nothing"):
                continue
            absent += opt not in names
            checked += 1
            assert could_rest(names.get(opt) or catalogue[opt], base), (it.question, opt)
    assert checked >= 30 and absent > 0  # scenes with fewer than three fitting objects borrow names from the catalogue


@pytest.mark.slow
def test_nearest_answer_is_not_always_the_nearest_of_all(lab: list[tuple[object, Item]]) -> None:
    """The answer is drawn first: often an object other than the one nearest of all is the
    answer (nearest among the options), and no frying pan (too wide to say what is closest) takes part."""
    import numpy as np

    from robostress.questions.base import desc

    its = [(p, i) for p, i in lab if i.qtype == "nearest"]
    assert len(its) >= 15, len(its)
    not_global = 0
    for plan, it in its:
        assert not any("frying pan" in o for o in it.options), it.options
        if "the gripper" not in it.question:
            continue
        g = np.asarray(plan.gripper.position)
        seen = [o for o in plan.objects if desc(o) in it.options or o.role != "occluder"]
        answer = it.options["ABCD".index(it.answer)]
        nearest = min(seen, key=lambda o: float(np.linalg.norm(np.asarray(o.position) - g)))
        not_global += desc(nearest) != answer
    assert not_global > 0


def test_move_first_names_are_distinct_when_twins_differ_in_size() -> None:
    """Scene 521 of seed 0 holds three milk cartons, all 'the milk carton', one small and two not:
    the name was once offered twice (and the build stopped on the duplicate option). Each name is
    one candidate, however many objects carry it."""
    from robostress.questions import generate_items
    from robostress.questions.base import FrameContext, Slots
    from robostress.questions.boxes import box_render
    from robostress.questions.planning import _could_carry
    from robostress.scene.sample import sample_scene

    plan = sample_scene("lab_tabletop", 0, 521)
    frame, arrays = box_render(plan)
    items = generate_items(plan, frame, [(plan, frame, arrays)], 0, ordinal=521)[0]
    assert all(len(set(i.options)) == len(i.options) for i in items if i.qtype == "move_first")
    ctx = FrameContext(plan, frame, arrays, Slots.of(0, plan.scene_id, 521))
    ids = [o.id for o in ctx.things()]
    cartons = 0
    for x in ids:
        names = [n for _, ns in _could_carry(ctx, x, [i for i in ids if i != x], set()) for n in ns]
        assert len(names) == len(set(names)), names
        cartons += names.count("the milk carton")
    assert cartons >= 2  # offered once to each object the cartons would fit on
