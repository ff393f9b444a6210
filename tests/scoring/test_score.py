"""Exact scoring: option letters, box IoU by hand, point in a real 16-bit mask PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from robostress.errors import DataError
from robostress.questions.item import Item
from robostress.render.io import encode_u16, read_u16, write_atomic
from robostress.scoring import iou, parse_answer, point_pixel, score

OPTS = ("the red mug", "the blue can", "the table", "the green cone")


def make_item(fmt: str, **kw: Any) -> Item:
    """A minimal valid item of one format."""
    base: dict[str, Any] = dict(
        item_id="f/k", key="k", frame_id="f", scene_id="s", clean_item_id="f/k", image="i.png",
        dimension="none", subtype="none", severity=0, ability="target_grounding", qtype=fmt, format=fmt,
        question="q", prompt="q", prompt_version="p1")
    base.update(kw)
    return Item(**base)


@pytest.fixture()
def masks(tmp_path: Path) -> Any:
    """A 10 x 20 instance mask with instance 7 at rows 2..4, columns 4..9, saved as 16-bit PNG."""
    mask = np.zeros((10, 20), np.uint16)
    mask[2:5, 4:10] = 7
    mask[9, 19] = 40000  # values above 255 survive the 16-bit round trip
    write_atomic(tmp_path / "m.png", encode_u16(mask))
    return lambda rel: read_u16(tmp_path / rel)


@pytest.mark.parametrize("a,b,want", [
    ([0, 0, 10, 10], [0, 0, 10, 10], 1.0),
    ([0, 0, 10, 10], [5, 0, 15, 10], 50 / 150),
    ([0, 0, 10, 10], [0, 0, 5, 5], 25 / 100),
    ([0, 0, 10, 10], [10, 0, 20, 10], 0.0),  # touching edges
    ([0, 0, 1, 1], [2, 2, 3, 3], 0.0),
    ([100, 100, 300, 300], [200, 200, 400, 400], 10000 / 70000),
    ([0, 0, 4, 4], [1, 1, 3, 3], 4 / 16),
])
def test_iou_by_hand(a: list[float], b: list[float], want: float) -> None:
    assert iou(a, b) == pytest.approx(want)
    assert iou(b, a) == pytest.approx(want)


def test_multiple_choice(masks: Any) -> None:
    mc = make_item("mc", ability="recognition", qtype="color", options=OPTS, answer="C")
    right, wrong, bad = score(mc, "C", masks), score(mc, "the blue can", masks), score(mc, "a cup", masks)
    assert (right.score, right.correct, right.parsed, right.chance) == (1.0, True, "C", 0.25)
    assert (wrong.score, wrong.correct, wrong.parsed) == (0.0, False, "B")
    assert bad.score == 0 and not bad.correct and bad.parsed is None and bad.parse_error
    assert score(make_item("mc", options=("yes", "no"), answer="B"), "no", masks).chance == 0.5
    with pytest.raises(DataError, match="f/k.*not one of the 4 option letters"):
        score(make_item("mc", options=OPTS, answer="E"), "A", masks)


def test_box_iou_and_flags(masks: Any) -> None:
    box = make_item("box", truth={"box": [200, 200, 500, 500]})
    exact = score(box, "[200, 200, 500, 500]", masks)
    assert exact.score == 1.0 and exact.correct
    assert exact.details == {"iou": 1.0, "iou@0.5": True, "iou@0.95": True, "chance_iou": pytest.approx(0.08, abs=0.005)}
    half = score(box, "(200,200),(500,350)", masks)  # half the truth: IoU exactly 0.5 counts
    assert half.score == pytest.approx(0.5) and half.correct and not half.details["iou@0.95"]
    miss = score(box, "[500, 500, 900, 900]", masks)
    assert miss.score == 0.0 and not miss.correct and 0.0 < miss.chance < 0.02  # computed (chance.py)
    broken = score(box, "[500, 500, 400, 900]", masks)
    assert broken.score == 0.0 and broken.parse_error and broken.details["iou"] == 0.0
    with pytest.raises(DataError, match=r"no truth\['box'\]"):
        score(make_item("box"), "[1, 2, 3, 4]", masks)


def test_point_in_a_real_mask(masks: Any) -> None:
    pt = make_item("point", truth={"mask": "m.png", "instances": [7]})
    assert point_pixel([350, 350], (10, 20)) == (7, 3)
    hit = score(pt, "[350, 350]", masks)
    assert hit.correct and hit.score == 1.0 and hit.details == {"in_mask": True, "pixel": [7, 3]}
    assert hit.chance == pytest.approx(18 / 200)
    assert not score(pt, "[100, 100]", masks).correct
    # pixel borders: x = 200 permille is the left edge of column 4 (inside), 199.9 is column 3
    assert score(pt, "[200, 200]", masks).correct and not score(pt, "[199.9, 300]", masks).correct
    assert point_pixel([1000, 1000], (10, 20)) == (19, 9)  # the far edge maps to the last pixel
    many = make_item("point", truth={"mask": "m.png", "instances": [7, 40000]})
    assert score(many, "[999, 999]", masks).correct
    assert score(many, "[999, 999]", masks).chance == pytest.approx(19 / 200)
    unparsable = score(pt, "somewhere near the mug", masks)
    assert unparsable.score == 0 and unparsable.parse_error and unparsable.chance == pytest.approx(0.09)


def test_malformed_point_items_name_the_problem(masks: Any) -> None:
    with pytest.raises(DataError, match=r"no truth\['mask'\]"):
        score(make_item("point", truth={"instances": [1]}), "[1, 2]", masks)
    rgb = make_item("point", truth={"mask": "x", "instances": [1]})
    with pytest.raises(DataError, match="not a 2-D image"):
        score(rgb, "[1, 2]", lambda rel: np.zeros((4, 4, 3), np.uint16))


def test_parse_answer_dispatches_on_format() -> None:
    assert parse_answer(make_item("mc", options=OPTS, answer="A"), "(d)").value == "D"
    assert parse_answer(make_item("box"), "[1, 2, 3, 4]").value == [1, 2, 3, 4]
    assert parse_answer(make_item("point"), "x=1, y=2").value == [1, 2]
    assert parse_answer(make_item("point"), None).error
