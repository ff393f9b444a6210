"""Questions: paired twins, exact truth, recorded drops, balanced answers, stable prompts."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from robostress.benchmark.load import Benchmark
from robostress.benchmark.manifest import read_jsonl
from robostress.questions import PROMPT_VERSION
from robostress.questions.item import ABILITIES

GOLDEN = Path(__file__).parent / "golden" / "tiny_clean_prompts.txt"


def test_every_ability_is_asked(tiny_bench: Benchmark) -> None:
    assert set(ABILITIES) <= {i.ability for i in tiny_bench.items}


def test_stressed_items_pair_with_identical_clean_questions(tiny_bench: Benchmark) -> None:
    by_id = {i.item_id: i for i in tiny_bench.items}
    stressed = [i for i in tiny_bench.items if i.severity > 0]
    assert stressed
    for i in stressed:
        c = by_id[i.clean_item_id]
        assert c.severity == 0 and c.key == i.key and c.scene_id == i.scene_id
        assert (c.question, c.options, c.prompt) == (i.question, i.options, i.prompt)


def test_truth_follows_the_stressed_frame(tiny_bench: Benchmark) -> None:
    """Stacking the target makes 'what is it resting on' change; glass makes colour undefined."""
    items = {i.item_id: i for i in tiny_bench.items}
    dropped = list(read_jsonl(tiny_bench.root / "dropped.jsonl"))
    reasons = Counter(d["reason"] for d in dropped)
    assert any("colour is undefined" in r for r in reasons), reasons
    glass = [d for d in dropped if "/transparent/s5" in d["frame_id"] and d["key"].startswith("recognition/color")]
    assert glass or not any(k.startswith("recognition/color") for k in {i.key for i in items.values()})
    stacked = [i for i in items.values() if i.qtype == "on" and i.subtype == "stacked_layout"
               and i.key.endswith("/" + tiny_bench.scenes[i.scene_id].targets[0])]
    for i in stacked:  # the stacked target now rests on a book, which is not an option: dropped
        raise AssertionError(f"{i.item_id} should have been dropped")
    assert any(d["key"].startswith("spatial/on/") and "stacked_layout" in d["frame_id"] for d in dropped)


def test_answer_letters_are_balanced(tmp_path: Path) -> None:
    """Over many clean scenes each letter of 4-option questions is correct 25% +- 5%."""
    from robostress.questions.context import FrameContext
    from robostress.questions.generate import TRUTH, plan_questions
    from robostress.render.frame import Frame, ObjectGT
    from robostress.scene.sample import sample_scene
    from robostress.stress.base import CLEAN

    counts: Counter[int] = Counter()
    for seed in range(60):
        plan = sample_scene("tabletop", seed, 0)
        objs = tuple(ObjectGT(id=o.id, visible_px=200, amodal_px=200, amodal_total_px=200, visible_fraction=1.0,
                              out_of_frame_fraction=0.0, bbox=(0, 0, 5, 5), centroid=(10.0 + 20 * k, 10.0))
                     for k, o in enumerate(plan.objects))
        frame = Frame(frame_id=f"{plan.scene_id}/clean", scene_id=plan.scene_id, clean_frame_id=f"{plan.scene_id}/clean",
                      stress=CLEAN, plan_hash="x", width=256, height=256, image="i", mask="m", depth="d", free="f",
                      hashes={}, id_map={}, objects=objs, render={})
        for s in plan_questions(plan, frame, 0):
            if s.format == "mc" and len(s.options) == 4:
                counts[s.options.index(TRUTH[s.qtype](s, FrameContext(plan, frame)))] += 1
    n = sum(counts.values())
    assert n > 300
    for k in range(4):
        assert abs(counts[k] / n - 0.25) <= 0.05, counts


def test_prompt_snapshot(tiny_bench: Benchmark) -> None:
    """Golden prompts change only on purpose (ROBOSTRESS_UPDATE_GOLDEN=1 rewrites them)."""
    clean = [i for i in tiny_bench.items if i.severity == 0]
    text = f"prompt_version={PROMPT_VERSION}\n" + "\n----\n".join(f"[{i.key}]\n{i.prompt}" for i in clean) + "\n"
    if os.environ.get("ROBOSTRESS_UPDATE_GOLDEN") == "1" or not GOLDEN.exists():
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), "prompts changed: bump PROMPT_VERSION and regenerate the golden file"
