"""Placement questions on sampled lab scenes: a spot next to a named object, with room for another
named object, whose valid region is a small share of the frame (``robostress.questions.region``)."""

from __future__ import annotations

import numpy as np
import pytest

from robostress.questions.item import Item
from robostress.questions.region import decode
from robostress.scoring.score import point_pixel
from tests.questions.fakes import sampled_clean_items


@pytest.fixture(scope="module")
def placements() -> list[Item]:
    return [i for i in sampled_clean_items(1, 16, ("lab_tabletop",)) if i.qtype == "placement"]


def test_every_region_is_non_empty_and_holds_its_reference_point(placements: list[Item]) -> None:
    assert len(placements) >= 12
    for i in placements:
        region = decode(i.truth["region"])
        x, y = point_pixel(i.truth["point"], region.shape)
        assert region[y, x] and region.mean() == pytest.approx(i.truth["area_fraction"], abs=1e-6), i.item_id


def test_the_valid_region_is_a_small_share_of_the_frame(placements: list[Item]) -> None:
    """'A free spot on the table' accepted about 40 % of the frame; next to a named object, with
    room for another, it is a few percent (the issue's bar: under 10 % on average)."""
    shares = np.array([i.truth["area_fraction"] for i in placements])
    assert shares.mean() < 0.10 and shares.max() < 0.25, shares


def test_questions_name_the_reference_and_the_object_to_put_down(placements: list[Item]) -> None:
    for i in placements:
        assert i.question.startswith("Point to a free spot on the ") and "where the robot could put the " in i.question
        assert any(w in i.question for w in ("just to the left of", "just to the right of", "just in front of",
                                              "just behind", "between"))
