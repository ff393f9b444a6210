"""Questions about articulated objects (issue 24, goal 3): 'is the top drawer of the white cabinet
open or closed?' (``open_closed``) and 'the robot must put X in the top drawer of the white
cabinet: what must it do first?' (``open_first``), on real household plans rendered by the box
rasteriser; the lab's questions untouched."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest

from robostress.errors import LayoutError
from robostress.models.base import Request, create_model
from robostress.questions import generate
from robostress.questions import templates as T
from robostress.questions.base import QUESTION_TYPES, FrameContext
from robostress.questions.boxes import box_render
from robostress.questions.generate import generate_items
from robostress.questions.item import Item
from robostress.questions.state import FRONT_MAX_TURN, front_turn, openable
from robostress.registry import Registry
from robostress.scene import assets as A
from robostress.scene.assets import asset_spec, extra_catalog
from robostress.scene.plan import ScenePlan
from robostress.scene.sample import articulated, sample_scene
from robostress.scoring import parse_answer

pytestmark = pytest.mark.skipif(not A.assets_available(), reason="asset packages not installed")

NEW = ("open_closed", "open_first")
SEED, SCENES = 0, 24  # scenes 1 (a closed cabinet) and 5 (an open mini fridge) ask them


def _items(plan: ScenePlan, ordinal: int) -> list[Item]:
    frame, arrays = box_render(plan)
    return generate_items(plan, frame, [(plan, frame, arrays)], SEED, ordinal=ordinal)[0]


@pytest.fixture(scope="module")
def household() -> list[tuple[ScenePlan, list[Item]]]:
    out = []
    for i in range(SCENES):
        try:
            plan = sample_scene("household", SEED, i)
        except LayoutError:  # a scene the sampler cannot lay out is skipped by a build too
            continue
        out.append((plan, _items(plan, i)))
    return out


def _state(plan: ScenePlan, oid: str) -> str:
    return str(asset_spec(str(next(o for o in plan.objects if o.id == oid).asset)).state)  # type: ignore[attr-defined]


def test_every_articulated_asset_names_its_part() -> None:
    for aid, s in extra_catalog().assets.items():
        assert (s.state is None) == (s.part is None), aid
        if s.part is not None:
            assert s.part in T.PART and s.part in T.PUT_IN
            assert "part" not in s.model_dump()  # not in the mesh's cache key


@pytest.mark.slow  # samples 24 household scenes (1-2 min): full suite only
def test_asked_where_the_state_can_be_seen_and_true_to_it(household: list[tuple[ScenePlan, list[Item]]]) -> None:
    asked: Counter[tuple[str, str]] = Counter()
    for plan, items in household:
        frame, arrays = box_render(plan)
        ctx = FrameContext(plan, frame, arrays)
        seen = openable(ctx)
        for oid in seen:
            assert front_turn(ctx, oid) <= FRONT_MAX_TURN and ctx.comfortable(oid)
        by_type = {q: [it for it in items if it.qtype == q] for q in NEW}
        assert [it.key.split("/")[-1] for it in by_type["open_closed"]] == seen
        for it in by_type["open_closed"]:
            state = _state(plan, it.key.split("/")[-1])
            assert it.options[ord(str(it.answer)) - ord("A")] == state
            assert it.ability == "state" and sorted(it.options) == [T.CLOSED, T.OPEN]
            asked[("open_closed", state)] += 1
        for it in by_type["open_first"]:
            box = it.key.split("/")[-1]
            assert box in seen and it.ability == "planning" and len(it.options) == 2
            truth = it.options[ord(str(it.answer)) - ord("A")]
            assert truth.startswith("open ") == (_state(plan, box) == "closed")
            assert truth.startswith("pick up ") == (_state(plan, box) == "open")
            asked[("open_first", _state(plan, box))] += 1
        if not any(o.asset and articulated(o.asset) for o in plan.objects):
            assert not any(by_type.values())
    assert {s for (q, s) in asked if q == "open_closed"} == {"open", "closed"}, asked
    assert asked[("open_first", "open")] + asked[("open_first", "closed")] >= 2, asked


def test_a_closed_cabinet_and_an_open_fridge() -> None:
    """Fast tier: household scenes 1 (a closed cabinet, seen by the front camera) and 5 (an open
    mini fridge, seen by a side camera); the other state asks the same text, the truth flipped."""
    want = {1: ("Is the top drawer of the cabinet open or closed?", T.CLOSED),
            5: ("Is the door of the mini fridge open or closed?", T.OPEN)}
    for i, (question, truth) in want.items():
        plan = sample_scene("household", SEED, i)
        items = _items(plan, i)
        asked = [it for it in items if it.qtype == "open_closed"]
        assert [(it.question, it.truth["option"]) for it in asked] == [(question, truth)]
        twin = [it for it in _items(_twin(plan), i) if it.qtype == "open_closed"]
        assert [(it.question, set(it.options)) for it in twin] == [(question, {T.OPEN, T.CLOSED})]
        assert twin[0].truth != asked[0].truth and twin[0].answer == asked[0].answer
        for it in [it for it in items if it.qtype == "open_first"]:
            assert it.truth["option"].startswith("open ") == (truth == T.CLOSED)


def _twin(plan: ScenePlan) -> ScenePlan:
    """The plan with each articulated object swapped for its other state (same size and place)."""
    cat = extra_catalog().assets

    def other(aid: str) -> str:
        s = cat[aid]
        return next(a for a, t in sorted(cat.items()) if t.xml == s.xml and t.state not in (None, s.state))

    objs = tuple(o.model_copy(update={"asset": other(o.asset)}) if o.asset and articulated(o.asset) else o
                 for o in plan.objects)
    return plan.model_copy(update={"objects": objs})


@pytest.mark.slow  # samples 24 household scenes (1-2 min): full suite only
def test_the_text_does_not_reveal_the_state(household: list[tuple[ScenePlan, list[Item]]]) -> None:
    """The same scene with each articulated object in the other state asks the same questions with
    the same options; only the true option flips (and stays at the letter drawn for the type: the
    letter says nothing either). Every other item is unchanged."""
    flipped = 0
    for plan, items in household:
        if not any(it.qtype in NEW for it in items):
            continue
        twin = {it.key: it for it in _items(_twin(plan), int(plan.scene_id.rsplit("-", 1)[1]))}
        assert set(twin) == {it.key for it in items}
        for it in items:
            other = twin[it.key]
            if it.qtype in NEW:
                assert (other.question, set(other.options), other.answer) == (it.question, set(it.options), it.answer)
                assert other.truth != it.truth, it.key
                flipped += 1
            else:
                assert other == it, it.key
    assert flipped >= 3


@contextmanager
def _without_new_types() -> Iterator[None]:
    reg: Registry = Registry("question type")
    for name in QUESTION_TYPES.names():
        if name not in NEW:
            reg.add(name, QUESTION_TYPES.get(name))
    old = generate.QUESTION_TYPES
    generate.QUESTION_TYPES = reg
    try:
        yield
    finally:
        generate.QUESTION_TYPES = old


@pytest.mark.slow  # samples 24 household scenes (1-2 min): full suite only
def test_other_questions_are_unchanged(household: list[tuple[ScenePlan, list[Item]]]) -> None:
    """The new types take no draw another type uses: every other item of a household scene, and
    every item of a lab scene (where they propose nothing), is what it is without them."""
    lab = [(sample_scene("lab_tabletop", SEED, i), i) for i in range(8)]
    with_new = [_items(p, i) for p, i in lab]
    assert not any(it.qtype in NEW for its in with_new for it in its)
    hh = [(p, int(p.scene_id.rsplit("-", 1)[1]), its) for p, its in household if any(it.qtype in NEW for it in its)]
    with _without_new_types():
        without = [_items(p, i) for p, i in lab]
        hh_without = [_items(p, i) for p, i, _ in hh]
    assert with_new == without
    for (_, _, its), base in zip(hh, hh_without, strict=True):
        assert [it for it in its if it.qtype not in NEW] == base


@pytest.mark.slow  # samples 24 household scenes (1-2 min): full suite only
def test_every_weight_free_preset_answers_them(household: list[tuple[ScenePlan, list[Item]]], tmp_path: Path) -> None:
    items = [it for _, its in household for it in its if it.qtype in NEW]
    image = tmp_path / "img.png"
    cv2.imwrite(str(image), np.random.default_rng(0).integers(0, 255, (96, 128, 3), dtype=np.uint8))
    presets = ["blind", "random", "prior", "classical", "oracle"]
    try:
        import torch  # noqa: F401

        presets += ["reader", "reader_blind"]
    except ImportError:
        pass
    for name in presets:
        model = create_model(name)
        replies = model.generate([Request(id=it.item_id, prompt=it.prompt, images=(str(image),), item=it)
                                  for it in items])
        for it, r in zip(items, replies, strict=True):
            assert r.error is None and parse_answer(it, r.text).error is None, (name, it.item_id, r)
