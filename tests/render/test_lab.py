"""Robot-lab scenes render with real textures, a visible robot with its own ids, and no void."""

from __future__ import annotations

import numpy as np
import pytest

from robostress.render.renderer import Renderer, RenderSettings
from robostress.scene import assets as A
from robostress.scene.sample import sample_scene
from robostress.stress.base import apply_stress

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not A.assets_available(), reason="asset packages not installed")]
SETTINGS = RenderSettings(width=64, height=64, spp=4, sampler="multijitter", max_depth=6)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(SETTINGS)


@pytest.fixture(scope="module")
def plan():  # type: ignore[no-untyped-def]
    p = sample_scene("lab_tabletop", 0, 0)
    assert p.robot is not None
    return p


def _black(rgb: np.ndarray) -> float:
    return float((rgb.max(-1) <= 2).mean())


def test_robot_and_gripper_have_their_own_instance_ids(renderer: Renderer, plan) -> None:  # type: ignore[no-untyped-def]
    a = renderer.render(plan, 0)
    names = {v: k for k, v in a.id_map.items()}
    assert {"robot", "gripper"} <= set(names)
    assert (a.ids == names["robot"]).sum() > 20, "the arm should be in view"
    assert (a.ids == names["gripper"]).sum() > 3, "the gripper should be in view"
    for o in plan.objects:
        if o.role == "target":
            assert (a.ids == names[o.id]).sum() > 0


@pytest.mark.parametrize("subtype", [None, "small_scale", "extreme_viewpoint", "truncated_out_of_frame"])
def test_no_frame_shows_the_void(renderer: Renderer, plan, subtype: str | None) -> None:  # type: ignore[no-untyped-def]
    p = plan if subtype is None else apply_stress(plan, subtype, 5)[0]
    a = renderer.render(p, 0)
    assert _black(a.rgb) < 0.01, f"{subtype}: {_black(a.rgb):.3f} of the frame is pure black"


def test_material_stresses_change_textured_targets(renderer: Renderer, plan) -> None:  # type: ignore[no-untyped-def]
    clean = renderer.render(plan, 0)
    names = {v: k for k, v in clean.id_map.items()}
    t = plan.targets[0]
    mask = clean.ids == names[t]
    for subtype in ("dark_absorptive", "low_contrast_blend", "complex_texture", "specular_confusion", "transparent"):
        out = renderer.render(apply_stress(plan, subtype, 5)[0], 0)
        d = np.abs(out.rgb.astype(int) - clean.rgb.astype(int)).mean(-1)
        assert d[mask].mean() > 3 * (d[~mask].mean() + 0.5), f"{subtype} barely changes the textured target"


def test_same_seed_same_pixels(renderer: Renderer, plan) -> None:  # type: ignore[no-untyped-def]
    assert np.array_equal(renderer.render(plan, 3).rgb, renderer.render(plan, 3).rgb)


def test_darkness_lowers_every_referents_photometric_visibility(renderer: Renderer, plan) -> None:  # type: ignore[no-untyped-def]
    from robostress.render.renderer import frame_objects

    clean = {g.id: g.contrast for g in frame_objects(plan, renderer.render(plan, 0))}
    p5 = apply_stress(plan, "global_underexposure", 5)[0]
    blown = {g.id: g.contrast for g in frame_objects(p5, renderer.render(p5, 0))}
    seen = [k for k in clean if clean[k] is not None and blown[k] is not None]
    assert seen and all(blown[k] < 0.6 * clean[k] for k in seen)
    assert all(clean[k] > 3.0 for k in plan.targets if clean[k] is not None)
