"""Question sets: determinism, pairing across every stress, recorded drops, balanced letters."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from robostress.core.records import StressRecord
from robostress.errors import ConfigError, DataError
from robostress.questions import (
    ABILITIES,
    PROMPT_VERSION,
    DroppedItem,
    Item,
    generate_items,
    plan_questions,
    realise,
)
from robostress.questions.base import QUESTION_TYPES, desc
from robostress.questions.templates import MC_INSTRUCTION
from robostress.scene.plan import ScenePlan
from robostress.scene.sample import sample_scene
from robostress.stress.base import all_stresses, apply_stress
from tests.questions.fakes import fake_render, handbuilt


def scene_items(plan: ScenePlan, seed: int = 0, severities: tuple[int, ...] = (1, 3, 5),
                subtypes: list[str] | None = None) -> tuple[list[Item], list[DroppedItem]]:
    frames = [(plan, *fake_render(plan))]
    for sub in subtypes if subtypes is not None else [s.subtype for s in all_stresses()]:
        for sev in severities:
            stressed, rec = apply_stress(plan, sub, sev)
            if rec.skipped is None:
                frames.append((stressed, *fake_render(stressed, rec)))
    return generate_items(plan, frames[0][1], frames, seed)


def test_same_seed_same_questions_other_seed_other_draws() -> None:
    plan = sample_scene("tabletop", 3, 0)
    frame, _ = fake_render(plan)
    a, b = plan_questions(plan, frame, 7), plan_questions(plan, frame, 7)
    assert a == b and len({s.key for s in a}) == len(a)
    c = plan_questions(plan, frame, 8)
    assert [(s.key, s.options) for s in a] != [(s.key, s.options) for s in c]


@pytest.mark.parametrize("family", ["tabletop", "kitchen_shelf"])
@pytest.mark.slow
def test_stressed_items_pair_with_identical_clean_questions(family: str) -> None:
    plan = sample_scene(family, 1, 0)
    items, dropped = scene_items(plan)
    clean = {i.item_id: i for i in items if i.severity == 0}
    stressed = [i for i in items if i.severity > 0]
    assert clean and len(stressed) > 10 * len(clean)
    assert {i.subtype for i in stressed} >= {"occlusion", "stacked_layout", "transparent", "extreme_viewpoint"}
    for i in stressed:
        c = clean[i.clean_item_id]
        assert (c.key, c.scene_id, c.question, c.options, c.prompt) == (i.key, i.scene_id, i.question, i.options,
                                                                         i.prompt)
        assert i.item_id == f"{i.frame_id}/{i.key}" and i.prompt_version == PROMPT_VERSION
    assert all(d.reason for d in dropped)


def test_stress_changes_truth_and_records_why_it_drops() -> None:
    plan = handbuilt()  # a sampled scene could hold a book of a stack book's colour: names clash
    t = plan.targets[0]
    items, dropped = scene_items(plan, subtypes=["stacked_layout", "transparent"], severities=(3,))
    by = {(i.subtype, i.key): i for i in items}
    on = QUESTION_TYPES.get("on")  # 'on' asks one drawn subject per scene: ask about the target here
    spec = on.spec(t, f"What is {desc(plan.objects[0])} resting on?", ("the table", "a book", "a plate", "a box"), (t,))
    stacked, rec = apply_stress(plan, "stacked_layout", 3)
    assert realise(spec, plan, fake_render(plan)[0]).truth["option"] == "the table"  # type: ignore[union-attr]
    assert realise(spec, stacked, fake_render(stacked, rec)[0]).truth["option"] == "a book"  # type: ignore[union-attr]
    reasons = {(d.frame_id.split("/")[1], d.key): d.reason for d in dropped}
    assert "glass" in reasons[("transparent", f"recognition/category/{t}")]
    assert ("transparent", f"target_grounding/box/{t}") in by  # still named, still grounded


def test_hidden_target_is_dropped_with_a_reason() -> None:
    plan = handbuilt()
    clean = fake_render(plan)
    rec = StressRecord(dimension="geometry", subtype="occlusion", severity=5)
    hidden = fake_render(plan, rec, hide=("obj00",))
    items, dropped = generate_items(plan, clean[0], [(plan, *clean), (plan, *hidden)], 0)
    gone = {d.key: d.reason for d in dropped if d.frame_id == hidden[0].frame_id}
    assert "0.0% visible" in gone["target_grounding/point/obj00"]
    lr = [r for k, r in gone.items() if k.startswith("spatial/left_right/") and "obj00" in k.split("/")]
    assert lr and all("visible" in r for r in lr)  # the pair's order is drawn: obj00 is either one
    assert any(i.key == "target_grounding/point/obj03" and i.severity == 5 for i in items)


@pytest.mark.slow
def test_questions_per_scene_and_abilities() -> None:
    counts, abilities = [], Counter()
    for family in ("tabletop", "kitchen_shelf"):
        for seed in range(15):
            plan = sample_scene(family, seed, 0)
            items, _ = generate_items(plan, (f := fake_render(plan))[0], [(plan, *f)], 0)
            counts.append(len(items))
            abilities.update(i.ability for i in items)
    assert 15 <= np.mean(counts) <= 25, counts
    assert set(abilities) == set(ABILITIES)
    assert min(abilities.values()) >= 15, abilities


@pytest.mark.slow
def test_answer_letters_are_balanced() -> None:
    """Over many clean scenes each letter is correct 25% +- 5% (4 options), 50% +- 5% (2); 1/3
    +- 10% for the fewer three-option questions (next_action)."""
    letters: dict[int, Counter[str]] = {2: Counter(), 3: Counter(), 4: Counter()}
    for family in ("tabletop", "kitchen_shelf"):
        for seed in range(40):
            plan = sample_scene(family, seed, 0)
            frame, arrays = fake_render(plan)
            for s in plan_questions(plan, frame, 0):
                if s.format == "mc":
                    item = realise(s, plan, frame, arrays)
                    assert isinstance(item, Item) and item.answer is not None
                    letters[len(s.options)][item.answer] += 1
    for n, c in letters.items():
        total = sum(c.values())
        assert total > (30 if n == 3 else 200), (n, c)
        for letter in "ABCD"[:n]:
            assert abs(c[letter] / total - 1 / n) <= (0.1 if n == 3 else 0.05), (n, c)


def test_prompt_format() -> None:
    plan = handbuilt()
    frame, arrays = fake_render(plan)
    items, _ = generate_items(plan, frame, [(plan, frame, arrays)], 0)
    mc = next(i for i in items if i.format == "mc" and len(i.options) == 4)
    assert mc.prompt.split("\n") == [mc.question, *(f"{L}. {o}" for L, o in zip("ABCD", mc.options, strict=True)),
                                     MC_INSTRUCTION]
    box = next(i for i in items if i.format == "box")
    assert "x1,y1,x2,y2 in permille" in box.prompt and box.answer is None
    point = next(i for i in items if i.format == "point")
    assert "x,y in permille" in point.prompt


def test_bad_input_gives_one_clear_error() -> None:
    plan = handbuilt()
    frame, arrays = fake_render(plan)
    spec = plan_questions(plan, frame, 0)[0]
    with pytest.raises(ConfigError, match="prompt version 'p0'"):
        realise(spec, plan, frame, arrays, prompt_version="p0")
    other = sample_scene("tabletop", 0, 0)
    with pytest.raises(DataError, match="scene"):
        realise(spec, other, frame, arrays)
    stressed, _ = fake_render(plan, StressRecord(dimension="lighting", subtype="global_underexposure", severity=2))
    with pytest.raises(DataError, match="needs the clean twin"):
        plan_questions(plan, stressed, 0)
    with pytest.raises(DataError, match="not among the frames"):
        generate_items(plan, frame, [(plan, stressed, arrays)], 0)
    box = next(s for s in plan_questions(plan, frame, 0) if s.format == "box")
    with pytest.raises(DataError, match="needs the frame's arrays"):
        realise(box, plan, frame, None)
