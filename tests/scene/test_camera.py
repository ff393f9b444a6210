"""The pinhole projection matches Mitsuba's perspective sensor exactly (pixel centres)."""

from __future__ import annotations

import numpy as np
import pytest

from robostress.render.mitsuba_scene import sensor_dict
from robostress.render.variant import set_variant
from robostress.scene.camera import look_at_vectors, project
from robostress.scene.plan import Camera


@pytest.mark.parametrize("roll", [0.0, 25.0])
@pytest.mark.parametrize("size", [(40, 40), (48, 32)])
def test_projection_matches_mitsuba_rays(roll: float, size: tuple[int, int]) -> None:
    set_variant("auto")
    import mitsuba as mi

    w, h = size
    cam = Camera(position=(0.1, -0.9, 1.3), look_at=(0.0, 0.05, 0.75), fov_deg=55, roll_deg=roll)
    scene = mi.load_dict({
        "type": "scene",
        "sensor": sensor_dict(cam, w, h, {"type": "stratified", "sample_count": 1, "jitter": False}),
        "floor": {"type": "rectangle", "to_world": mi.ScalarTransform4f().translate([0, 0, 0.75]).scale(3)},
    })
    aov = mi.load_dict({"type": "aov", "aovs": "dd:depth,pp:position"})
    g = np.array(mi.render(scene, integrator=aov, spp=1))
    ys, xs = np.nonzero(g[..., 0] > 0)
    assert len(xs) > w * h // 4
    uv, z = project(cam, g[ys, xs, 1:4], w, h)
    assert (z > 0).all()
    np.testing.assert_allclose(uv[:, 0], xs + 0.5, atol=2e-3)
    np.testing.assert_allclose(uv[:, 1], ys + 0.5, atol=2e-3)


def test_roll_rotates_up_about_the_view_axis() -> None:
    cam = Camera(position=(0, -1, 1), look_at=(0, 0, 0), roll_deg=90)
    o, t, up = look_at_vectors(cam)
    d = (t - o) / np.linalg.norm(t - o)
    assert abs(float(np.dot(up, d))) < 1e-9
    assert abs(float(np.linalg.norm(up)) - 1) < 1e-9
    assert abs(up[2]) < 1e-9  # rolled 90 degrees: up is horizontal


def test_straight_down_view_is_well_defined() -> None:
    cam = Camera(position=(0, 0, 2), look_at=(0, 0, 0))
    uv, z = project(cam, np.array([[0.0, 0.0, 0.0]]), 32, 32)
    np.testing.assert_allclose(uv[0], [16, 16], atol=1e-9)
    assert z[0] == pytest.approx(2.0)
