"""The renderer's ground truth on real Mitsuba renders: ids by shape id, visibility, free space."""

from __future__ import annotations

import numpy as np
import pytest

from robostress.errors import ConfigError
from robostress.render.renderer import Renderer, RenderSettings, frame_objects
from robostress.scene.sample import sample_scene
from robostress.stress.base import apply_stress

S = RenderSettings(width=64, height=64, spp=4, sampler="multijitter", max_depth=6)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(S)


def test_ids_depth_and_visibility_are_consistent(renderer: Renderer) -> None:
    plan = sample_scene("tabletop", 0, 0)
    a = renderer.render(plan, 1)
    assert a.rgb.shape == (64, 64, 3) and a.rgb.dtype == np.uint8
    assert set(np.unique(a.ids)) <= {0} | set(a.id_map)
    assert a.id_map[1] == plan.supports[0].id
    for gt in frame_objects(plan, a):
        if gt.visible_px:
            assert 0.85 <= gt.visible_fraction <= 1.0, gt  # clean scenes: nothing occludes targets
            x1, y1, x2, y2 = gt.bbox  # type: ignore[misc]
            assert (a.ids[y1:y2 + 1, x1:x2 + 1] == a.ids[int(gt.centroid[1]), int(gt.centroid[0])]).any()  # type: ignore[index]
    hit = a.ids > 0
    assert (a.depth[hit] > 0).all()
    # free space lies on the table top and never on an object
    assert ((a.free > 0) <= (a.ids == 1)).all() and (a.free > 0).sum() > 100


@pytest.mark.slow
def test_occlusion_lowers_visible_fraction_and_truncation_raises_out_of_frame(renderer: Renderer) -> None:
    plan = sample_scene("tabletop", 1, 0)
    t = plan.targets[0]
    clean = {g.id: g for g in frame_objects(plan, renderer.render(plan, 1))}[t]
    occ, rec = apply_stress(plan, "occlusion", 5)
    assert rec.skipped is None
    occluded = {g.id: g for g in frame_objects(occ, renderer.render(occ, 1))}[t]
    assert occluded.visible_fraction < clean.visible_fraction - 0.3
    cut, _ = apply_stress(plan, "truncated_out_of_frame", 5)
    out = {g.id: g for g in frame_objects(cut, renderer.render(cut, 1))}[t]
    assert clean.out_of_frame_fraction < 0.05 and out.out_of_frame_fraction > 0.5


def test_same_seed_same_pixels_other_seed_other_noise(renderer: Renderer) -> None:
    plan = sample_scene("tabletop", 2, 0)
    a, b, c = renderer.render(plan, 5), renderer.render(plan, 5), renderer.render(plan, 6)
    assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.ids, b.ids)
    assert not np.array_equal(a.rgb, c.rgb)
    assert np.array_equal(a.ids, c.ids)  # ground truth does not depend on the noise seed


@pytest.mark.slow
def test_scalar_and_jit_variants_agree_on_ground_truth() -> None:
    plan = sample_scene("kitchen_shelf", 0, 0)
    scalar = Renderer(RenderSettings(width=40, height=40, spp=1, sampler="independent", variant="scalar_rgb"))
    ids_scalar = scalar.render(plan, 0).ids
    auto = Renderer(RenderSettings(width=40, height=40, spp=1, sampler="independent", variant="auto"))
    assert np.array_equal(auto.render(plan, 0).ids, ids_scalar)


@pytest.mark.slow
def test_a_renderer_renders_in_its_own_variant_after_another_switched_it() -> None:
    """Mitsuba's variant is process-wide: a second renderer (or low_contrast_blend's probe) must
    not leave the first rendering in the wrong one."""
    import mitsuba as mi

    from robostress.render.variant import choose_variant
    from robostress.stress import camouflage

    if choose_variant("auto") == "scalar_rgb":
        pytest.skip("only scalar_rgb runs here: there is no second variant to switch to")
    plan = sample_scene("tabletop", 0, 0)
    scalar = Renderer(RenderSettings(width=24, height=24, spp=4, variant="scalar_rgb"))
    alone = scalar.render(plan, 0).rgb
    Renderer(RenderSettings(width=24, height=24, spp=4, variant="auto"))  # switches the variant
    assert mi.variant() != "scalar_rgb"
    assert np.array_equal(scalar.render(plan, 0).rgb, alone) and mi.variant() == "scalar_rgb"
    camouflage._camouflage.cache_clear()
    camouflage.camouflage(plan)  # the probe renders in scalar_rgb and leaves the active variant
    assert mi.variant() == "scalar_rgb"


@pytest.mark.parametrize("kw,msg", [({"sampler": "orthogonal", "spp": 16}, "orthogonal sampler needs spp"), ({"width": 4}, "render size"),
                                    ({"sampler": "sobol"}, "unknown sampler"), ({"spp": 0}, "spp must be"),
                                    ({"sampler": "ldsampler", "spp": 8}, "square power of two"),
                                    ({"sampler": "multijitter", "spp": 32}, "would silently become 35"),
                                    ({"passes": 1}, "passes must be >= 2"),
                                    ({"noise_ratio": 0.9}, "noise_ratio must be >= 1.0"),
                                    ({"spp_ladder": (2, 4)}, "spp_ladder must start at 1"),
                                    ({"spp_ladder": (1, 2, 2)}, "increase strictly")])
def test_bad_render_settings(kw: dict, msg: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError, match=msg):
        RenderSettings(**kw)
