"""Strict parsing and exact scoring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from robostress.questions.item import Item
from robostress.render.io import encode_u16, read_u16, write_atomic
from robostress.scoring import iou, parse_box, parse_choice, parse_point, score

OPTS = ("the red mug", "the blue can", "the table", "the green cone")
CHOICES = [
    ("B", "B"), ("(B)", "B"), ("b", None), ("Answer: C", "C"), ("the answer is D.", "D"), ("**C**", "C"),
    ("option A", "A"), ("A.", "A"), (" A ", "A"), ("'D'", "D"), ("Final answer: B", "B"),
    ("the table", "C"), ("The Table", "C"), ("B. the blue can", "B"), ("B) the red mug", None),
    ("a cup", None), ("A or B", None), ("A, B", None), ("E", None), ("", None), ("   ", None),
    ("<script>alert(1)</script>", None), ("x" * 10000, None), ("I think it's A because", None),
    ("AB", None), ("the mug", None), ("A\nB", None), ("1", None),
]


@pytest.mark.parametrize("text,want", CHOICES)
def test_parse_choice(text: str, want: str | None) -> None:
    p = parse_choice(text, OPTS)
    assert p.value == want
    assert (p.error is None) == (want is not None)


@pytest.mark.parametrize("text,want", [
    ("[10, 20, 300, 400]", [10, 20, 300, 400]), ("(10,20),(300,400)", [10, 20, 300, 400]),
    ("<box>1 2 3 4</box>", [1, 2, 3, 4]), ("10.5 20 30 40", [10.5, 20, 30, 40]),
    ("[300, 20, 10, 400]", None), ("[1, 2, 3]", None), ("[1, 2, 3, 4, 5]", None), ("[nan, 1, 2, 3]", None),
    ("[-1, 2, 3, 4]", None), ("[0, 0, 1001, 5]", None), ("[inf, 0, 5, 5]", None), ("no box", None),
])
def test_parse_box(text: str, want: list[float] | None) -> None:
    assert parse_box(text).value == want


@pytest.mark.parametrize("text,want", [
    ("(500, 600)", [500, 600]), ("[1,2]", [1, 2]), ("x=12, y=40", [12, 40]), ("(1001, 5)", None),
    ("(1, 2, 3)", None), ("(nan, 1)", None), ("", None),
])
def test_parse_point(text: str, want: list[float] | None) -> None:
    assert parse_point(text).value == want


def test_iou_by_hand() -> None:
    assert iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert iou([0, 0, 10, 10], [5, 0, 15, 10]) == pytest.approx(50 / 150)
    assert iou([0, 0, 1, 1], [2, 2, 3, 3]) == 0.0


def _item(fmt: str, **kw: object) -> Item:
    base = dict(item_id="f/k", key="k", frame_id="f", scene_id="s", clean_item_id="f/k", image="i.png",
                dimension="none", subtype="none", severity=0, ability="target_grounding", qtype="box",
                format=fmt, question="q", prompt="q", prompt_version="p1")
    base.update(kw)
    return Item(**base)  # type: ignore[arg-type]


def test_scores_for_every_format(tmp_path: Path) -> None:
    mask = np.zeros((10, 20), np.uint16)
    mask[2:5, 4:10] = 7
    write_atomic(tmp_path / "m.png", encode_u16(mask))
    load = lambda rel: read_u16(tmp_path / rel)  # noqa: E731
    mc = _item("mc", ability="recognition", qtype="color", options=OPTS, answer="C")
    assert score(mc, "C", load).correct and not score(mc, "B", load).correct
    bad = score(mc, "a cup", load)
    assert bad.score == 0 and bad.parse_error and bad.chance == 0.25
    box = _item("box", truth={"box": [200, 200, 500, 500]})
    s = score(box, "[200, 200, 500, 500]", load)
    assert s.correct and s.details["iou@0.95"]
    assert not score(box, "[500, 500, 900, 900]", load).correct
    pt = _item("point", qtype="point", truth={"mask": "m.png", "instances": [7]})
    assert score(pt, "[350, 350]", load).correct  # pixel (7, 3)
    assert not score(pt, "[100, 100]", load).correct
    assert score(pt, "[350, 350]", load).chance == pytest.approx(18 / 200)
