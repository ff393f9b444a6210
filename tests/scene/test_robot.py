"""The posed Panda arm: real MuJoCo kinematics on robosuite's assets, a real Mitsuba render."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mujoco")

from robostress.scene.plan import Camera, Robot  # noqa: E402
from robostress.scene.robot import (  # noqa: E402
    fingertip_center,
    robot_boxes,
    robot_intersects_box,
    robot_parts,
    solve_reach,
)

BASE = (0.0, 0.5, 0.75)  # behind the table's far edge (y = 0.4), on a pedestal at table height
YAW = -90.0  # the arm reaches along -y, towards the head camera
TABLE_Z = 0.75
TARGETS = [(0.0, 0.0, 0.85), (0.2, -0.1, 0.80), (-0.25, 0.1, 0.78), (0.3, -0.2, 0.80),
           (-0.3, 0.2, 0.90)]


@pytest.fixture(scope="module")
def home() -> Robot:
    return Robot(position=BASE, yaw_deg=YAW)


def test_parts_are_world_meshes_with_panda_colours(home: Robot) -> None:
    parts = robot_parts(home)
    names = {p.name for p in parts}
    assert {"link0", "link3", "link7", "hand", "finger_left", "finger_right"} <= names
    for p in parts:
        assert p.vertices.dtype == np.float32 and p.vertices.shape[1] == 3
        assert p.faces.dtype == np.uint32 and p.faces.max() < len(p.vertices)
        assert p.uv is None
    allv = np.concatenate([p.vertices for p in parts])
    assert allv[:, 2].min() == pytest.approx(TABLE_Z, abs=2e-3)  # link0 stands on its base
    assert 0.5 < allv[:, 2].max() - TABLE_Z < 1.2  # the home pose is about 0.7 m tall
    light = [p for p in parts if min(p.rgb) > 0.85]
    dark = [p for p in parts if max(p.rgb) < 0.55]
    assert any(p.name == "link1" for p in light) and any(p.name == "finger_left" for p in dark)


def test_base_pose_moves_the_whole_arm_rigidly(home: Robot) -> None:
    moved = home.model_copy(update={"position": (1.0, 2.0, 0.0), "yaw_deg": YAW + 90.0})
    a = np.concatenate([p.vertices for p in robot_parts(home)]) - np.float32(BASE)
    b = np.concatenate([p.vertices for p in robot_parts(moved)]) - np.float32((1.0, 2.0, 0.0))
    assert np.allclose(np.c_[-a[:, 1], a[:, 0], a[:, 2]], b, atol=1e-5)  # +90 deg about z


def test_opening_separates_the_fingers(home: Robot) -> None:
    def gap(robot: Robot) -> float:
        parts = {p.name: p.vertices for p in robot_parts(robot)}
        return float(np.linalg.norm(parts["finger_left"].mean(0) - parts["finger_right"].mean(0)))

    wide, shut = home.model_copy(update={"opening": 0.08}), home.model_copy(update={"opening": 0.0})
    assert gap(wide) - gap(shut) == pytest.approx(0.08, abs=1e-5)


@pytest.mark.parametrize("target", TARGETS)
def test_ik_reaches_target_pointing_down(target: tuple[float, float, float]) -> None:
    robot = solve_reach(BASE, YAW, target, opening=0.05)
    assert np.linalg.norm(fingertip_center(robot) - target) < 0.005
    parts = {p.name: p.vertices for p in robot_parts(robot)}
    finger = parts["finger_left"].astype(float)
    assert finger[:, 2].min() == pytest.approx(target[2], abs=0.006)  # the tips are the lowest point
    # both fingers' midpoint and the tip centre lie on the gripper axis: it must point down
    fingers = (parts["finger_left"].mean(0) + parts["finger_right"].mean(0)) / 2
    axis = (fingertip_center(robot) - fingers) / np.linalg.norm(fingertip_center(robot) - fingers)
    assert axis[2] < -0.999  # within ~2.5 degrees of vertical
    lo = np.array([-2.8973, -1.7628, -2.8973, -3.0718, -2.8973, -0.0175, -2.8973])
    hi = np.array([2.8973, 1.7628, 2.8973, -0.0698, 2.8973, 3.7525, 2.8973])
    assert np.all((lo <= robot.joints) & (np.asarray(robot.joints) <= hi))


def test_ik_and_meshes_are_deterministic() -> None:
    a = solve_reach(BASE, YAW, (0.1, -0.05, 0.83), seed=3)
    b = solve_reach(BASE, YAW, (0.1, -0.05, 0.83), seed=3)
    assert a == b
    for pa, pb in zip(robot_parts(a), robot_parts(b), strict=True):
        assert pa.name == pb.name and np.array_equal(pa.vertices, pb.vertices)


def test_unreachable_target_raises() -> None:
    with pytest.raises(ValueError, match="cannot reach"):
        solve_reach(BASE, YAW, (0.0, -1.5, 0.8))


def test_out_of_range_joints_raise(home: Robot) -> None:
    bad = home.model_copy(update={"joints": (0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0)})
    with pytest.raises(ValueError, match="joint4"):
        robot_parts(bad)


def test_intersection_proxy() -> None:
    robot = solve_reach(BASE, YAW, (0.1, -0.05, 0.83))
    tip = fingertip_center(robot)
    assert robot_intersects_box(robot, tuple(tip), (0.1, 0.1, 0.04))  # wider than the opening
    shut = robot.model_copy(update={"opening": 0.0})
    assert robot_intersects_box(shut, tuple(tip), (0.02, 0.02, 0.02))
    assert not robot_intersects_box(robot, (0.5, -0.3, 0.8), (0.05, 0.05, 0.05))
    assert robot_intersects_box(robot, (0.5, -0.3, 0.8), (0.05, 0.05, 0.05), margin=0.5)
    # 3 cm of clearance between the fingertips and the top of the slab
    slab = ((0.0, 0.0, TABLE_Z - 0.02), (1.2, 0.8, 0.04))
    assert not robot_intersects_box(robot, *slab, exclude=("link0",))
    low = solve_reach(BASE, YAW, (0.1, -0.05, TABLE_Z + 0.005))
    assert robot_intersects_box(low, *slab, margin=0.01, exclude=("link0",))


def test_boxes_enclose_the_meshes() -> None:
    robot = solve_reach(BASE, YAW, (-0.2, 0.1, 0.9))
    parts = robot_parts(robot)
    for box in robot_boxes(robot):
        v = np.concatenate([p.vertices for p in parts if p.name.split("_")[0] == box.name
                            or p.name == box.name]).astype(float)
        local = (v - box.center) @ box.rotation
        assert np.all(np.abs(local) <= box.half_size + 1e-4), box.name


def test_arm_renders_in_mitsuba() -> None:
    from robostress.render.mitsuba_scene import mesh_shape, sensor_dict
    from robostress.render.variant import set_variant
    from robostress.scene.objects import box_mesh

    set_variant("auto")
    import mitsuba as mi

    robot = solve_reach(BASE, YAW, (0.1, -0.05, 0.83))
    cam = Camera(position=(1.1, -0.6, 1.35), look_at=(0.0, 0.2, 0.95), fov_deg=50.0)

    def render(with_arm: bool) -> np.ndarray:
        d = {"type": "scene", "integrator": {"type": "path", "max_depth": 3},
             "sensor": sensor_dict(cam, 64, 64, {"type": "independent", "sample_count": 4}),
             "env": {"type": "constant", "radiance": {"type": "rgb", "value": [1.0, 1.0, 1.0]}},
             "slab": mesh_shape("slab", box_mesh((1.2, 0.8, 0.04), (0.0, 0.0, TABLE_Z - 0.02)),
                                {"type": "diffuse", "reflectance": {"type": "rgb", "value": [0.4, 0.3, 0.2]}})}
        for p in robot_parts(robot) if with_arm else ():
            d["robot:" + p.name] = mesh_shape("robot:" + p.name, p, {
                "type": "diffuse", "reflectance": {"type": "rgb", "value": list(p.rgb)}})
        return np.asarray(mi.render(mi.load_dict(d), seed=0))

    changed = np.abs(render(True) - render(False)).max(axis=2) > 0.1
    assert 0.05 < changed.mean() < 0.6
