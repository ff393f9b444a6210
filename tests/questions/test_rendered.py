"""Questions on real Mitsuba renders (the session's tiny benchmark): pairing, truth vs masks."""

from __future__ import annotations

from collections import Counter

import numpy as np

from robostress.benchmark.load import Benchmark
from robostress.benchmark.manifest import read_jsonl
from robostress.questions.item import ABILITIES
from robostress.scoring.score import point_in_mask


def test_every_ability_is_asked_and_every_stressed_item_is_paired(tiny_bench: Benchmark) -> None:
    clean = {i.item_id: i for i in tiny_bench.items if i.severity == 0}
    assert set(ABILITIES) == {i.ability for i in clean.values()}
    assert 15 <= len(clean) <= 30
    stressed = [i for i in tiny_bench.items if i.severity > 0]
    assert len(stressed) > 10 * len(clean)
    for i in stressed:
        c = clean[i.clean_item_id]
        assert (c.key, c.question, c.options, c.prompt) == (i.key, i.question, i.options, i.prompt)


def test_grounding_truth_matches_the_rendered_masks(tiny_bench: Benchmark) -> None:
    """The reference point always hits, and the truth box is the mask's box in permille."""
    for i in tiny_bench.items:
        if i.format == "mc":
            continue
        m = tiny_bench.mask(i.truth["mask"])
        assert point_in_mask(i.truth["point"], m, i.truth["instances"]), i.item_id
        if i.format == "box":
            h, w = m.shape
            ys, xs = np.nonzero(np.isin(m, i.truth["instances"]))
            assert i.truth["box"] == [round(1000 * xs.min() / w), round(1000 * ys.min() / h),
                                      round(1000 * (xs.max() + 1) / w), round(1000 * (ys.max() + 1) / h)]


def test_drops_are_recorded_with_reasons(tiny_bench: Benchmark) -> None:
    dropped = list(read_jsonl(tiny_bench.root / "dropped.jsonl"))
    assert dropped and all(d["reason"] for d in dropped)
    keys = {i.key for i in tiny_bench.items if i.severity == 0}
    colour_keys = {k for k in keys if k.startswith("recognition/color/")}
    glass = [d for d in dropped if "/transparent/s5" in d["frame_id"] and d["key"] in colour_keys]
    assert len(glass) == len(colour_keys) and all("glass" in d["reason"] for d in glass)
    reasons = Counter(d["reason"].split(":")[0] for d in dropped)
    assert any("visible" in r for r in reasons), reasons


def test_category_named_by_a_point_survives_material_stress(tiny_bench: Benchmark) -> None:
    """A glass mug is still a mug: category questions stay under every material stress."""
    frames = tiny_bench.frames
    kept = Counter(frames[i.frame_id].stress.subtype for i in tiny_bench.items
                   if i.qtype == "category_at" and frames[i.frame_id].stress.dimension == "material")
    material = {f.stress.subtype for f in frames.values() if f.stress.dimension == "material"}
    assert material and all(kept[s] > 0 for s in material), kept
