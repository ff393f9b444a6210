"""Chance is computed from the `random` baseline's own sampler: checked against a closed-form
integral, and by letting `random` answer synthetic items with real masks and boxes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from robostress.metrics import chance_band
from robostress.models.base import Request, create_model
from robostress.questions.item import Item
from robostress.scoring import box_chance, mask_chance, random_boxes, score
from robostress.scoring.chance import BOX_CHANCE_DRAWS, box_chance_iou
from robostress.seeding import rng


def _item(i: int, fmt: str, **kw: Any) -> Item:
    return Item(item_id=f"f{i}/{fmt}", key=fmt, frame_id=f"f{i}", scene_id=f"s{i // 10}",
                clean_item_id=f"f{i}/{fmt}", image="i.png", dimension="none", subtype="none", severity=0,
                ability="target_grounding" if fmt != "mc" else "recognition", qtype=fmt, format=fmt,  # type: ignore[arg-type]
                question="q", prompt="q", prompt_version="p1", **kw)


def test_full_image_box_chance_matches_the_closed_form() -> None:
    """Truth = the whole image: IoU = area of the random box = w_x * w_y, where each side w = |U1 - U2|
    has density 2 (1 - w). P(w_x w_y >= 1/2) = int_{1/2}^1 2 (1 - a) (1 - 1/(2a))^2 da; E[IoU] = 1/9."""
    a = np.linspace(0.5, 1.0, 200_001)
    exact = np.trapezoid(2 * (1 - a) * (1 - 1 / (2 * a)) ** 2, a)
    mc_se = np.sqrt(exact * (1 - exact) / BOX_CHANCE_DRAWS)
    assert box_chance([0, 0, 1000, 1000]) == pytest.approx(exact, abs=3.5 * mc_se)
    assert box_chance_iou([0, 0, 1000, 1000]) == pytest.approx(1 / 9, abs=0.002)
    assert box_chance([400, 400, 450, 450]) == 0.0  # a 5% x 5% box: no random box reaches IoU 0.5
    assert box_chance([0, 0, 1000, 1000]) == box_chance((0.0, 0.0, 1000.0, 1000.0))  # deterministic


def test_random_boxes_are_what_the_baseline_answers() -> None:
    item = _item(0, "box", truth={"box": [100, 100, 900, 900]})
    text = create_model("random", seed=3).generate([Request(id="x", prompt="", item=item)])[0].text
    assert [float(v) for v in text.strip("[]").split(",")] == pytest.approx(
        random_boxes(rng(3, "random", item.item_id), 1)[0].tolist(), abs=1e-9)


@pytest.mark.slow
def test_random_lands_inside_its_computed_chance_per_format() -> None:
    """600 items per format with assorted truth boxes, masks and option counts (not one shape)."""
    g = rng(0, "chance-items")
    masks: dict[str, np.ndarray] = {}
    items = []
    for i in range(600):
        w, h = int(g.integers(16, 96)), int(g.integers(16, 96))
        m = np.zeros((h, w), np.uint16)
        x0, y0 = int(g.integers(0, w - 2)), int(g.integers(0, h - 2))
        m[y0:int(g.integers(y0 + 1, h + 1)), x0:int(g.integers(x0 + 1, w + 1))] = 5
        masks[f"m{i}.png"] = m
        c = g.uniform(0, 1000, 2)
        side = g.uniform(150, 900, 2)
        box = [max(0.0, c[0] - side[0] / 2), max(0.0, c[1] - side[1] / 2),
               min(1000.0, c[0] + side[0] / 2), min(1000.0, c[1] + side[1] / 2)]
        n_opt = int(g.integers(2, 7))
        items += [_item(i, "box", truth={"box": box}), _item(i, "point", truth={"mask": f"m{i}.png", "instances": [5]}),
                  _item(i, "mc", options=tuple(f"o{j}" for j in range(n_opt)), answer="A")]
    replies = create_model("random", seed=11).generate([Request(id=it.item_id, prompt="", item=it) for it in items])
    scored = [(it, score(it, r.text, masks.__getitem__)) for it, r in zip(items, replies, strict=True)]
    for fmt in ("box", "point", "mc"):
        mine = [s for it, s in scored if it.format == fmt]
        acc = np.mean([s.correct for s in mine])
        lo, hi = chance_band([s.chance for s in mine], z=3.0)
        assert lo <= acc <= hi, (fmt, acc, lo, hi)
        assert np.mean([s.chance for s in mine]) > 0.01, fmt  # non-trivial chance, so the check has teeth
    boxes = [(it, s) for it, s in scored if it.format == "box"]
    ious = np.array([s.score for _, s in boxes])
    expected = np.mean([box_chance_iou(it.truth["box"]) for it, _ in boxes])
    assert np.mean(ious) == pytest.approx(expected, abs=3 * ious.std() / np.sqrt(len(ious)))
    assert all(s.chance == pytest.approx(mask_chance(masks[it.truth["mask"]], [5]))
               for it, s in scored if it.format == "point")
