"""Equal-noise twins: the pass-spread noise estimate, the adaptive spp ladder, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from robostress.render.io import encode_rgb
from robostress.render.noise import PassStack, erode, noise_ratio, srgb_levels
from robostress.render.renderer import Renderer, RenderSettings
from robostress.scene.sample import sample_scene
from robostress.stress.base import apply_stress

# The raw-pass pipeline of renderer r8 (still a setting): matching on unchanged pixels only.
S = RenderSettings(width=64, height=64, spp=4, sampler="multijitter", max_depth=6, denoise=None, match=("unchanged",))


@pytest.mark.parametrize("n", [2, 4, 8])
def test_noise_estimate_recovers_a_known_sigma(n: int) -> None:
    # Linear values in sRGB's linear segment (x <= 0.0031308): levels = 12.92 * 255 * x exactly,
    # so a known linear sigma is a known sigma in levels; the mean of n passes has sigma / sqrt(n).
    g = np.random.default_rng(n)
    sigma_levels, centre = 0.05, 0.0015
    scale = 12.92 * 255.0
    stack = PassStack()
    for _ in range(n):
        stack.add(centre + g.normal(0.0, sigma_levels / scale, (128, 128, 3)))
    assert abs(srgb_levels(np.full((1, 1, 3), centre))[0, 0, 0] - centre * scale) < 1e-9
    est = stack.noise()
    assert est.shape == (128, 128)
    assert est.mean() == pytest.approx(sigma_levels / np.sqrt(n), rel=0.03)  # c4 removes the bias
    assert np.allclose(stack.mean_linear().mean(), centre, atol=1e-5)


def test_noise_needs_two_passes_and_ratio_needs_pixels() -> None:
    stack = PassStack()
    stack.add(np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="two independent passes"):
        stack.noise()
    assert erode(np.ones((5, 5), bool)).sum() == 9  # the one-pixel border is dropped


def test_clipped_pixels_are_not_counted_as_unchanged() -> None:
    """A clipped pixel shows no noise in the clean twin; a stress that dims it a little unclips
    it and its noise appears. Comparing noise there gave one lab frame a ratio of 118."""
    from robostress.render.noise import make_ref, unchanged_mask

    g = np.random.default_rng(0)
    ids = np.ones((32, 32), np.uint16)
    depth = np.ones((32, 32), np.float32)
    level = np.where(np.arange(32)[None, :, None] < 16, 0.2, 1.5) * np.ones((32, 32, 3))  # right half clipped
    clean, dimmed = PassStack(), PassStack()
    for _ in range(2):
        clean.add(level + g.normal(0, 0.002, level.shape))
        dimmed.add(np.where(level > 1, 0.995, level) + g.normal(0, 0.002, level.shape))
    ref = make_ref(clean, ids, {1: "table"}, depth)
    mask = unchanged_mask(ref, dimmed, ids, {1: "table"}, depth)
    assert mask[1:-1, 1:14].all() and not mask[:, 16:].any()  # (erode drops the border)
    assert noise_ratio(ref, dimmed.noise(), mask) == pytest.approx(1.0, abs=0.3)


@pytest.fixture(scope="module")
def scene_twins() -> tuple[Renderer, object]:
    return Renderer(S), sample_scene("tabletop", 0, 0)


@pytest.mark.slow
def test_adaptive_ladder_meets_the_bound_on_local_lighting_stresses(scene_twins: tuple) -> None:  # type: ignore[type-arg]
    r, clean = scene_twins
    plain = Renderer(RenderSettings(**{**S.__dict__, "noise_ratio": None}))
    c = r.render_twin(clean, 3)
    assert c.ref is not None and c.noise["passes"] == 2 and c.noise["spp"] == 8
    raised = 0
    for sub, sev in [(s, v) for s in ("local_underexposure", "local_overexposure") for v in (1, 3, 5)]:
        plan, rec = apply_stress(clean, sub, sev)
        assert rec.skipped is None
        out = r.render_twin(plan, 3, c.ref)
        n = out.noise
        assert n["unchanged_px"] > 200, n  # most of the table is untouched by the caster
        assert n["ratio"] is not None and n["ratio"] <= 1.15, n
        assert n["spp"] == S.spp * n["passes"] and n["passes"] in (2, 4, 8, 16)
        raised += n["passes"] > 2
        base = plain.render_twin(plan, 3, c.ref).noise  # without the ladder: base spp, ratios measured only
        assert base["passes"] == 2 and base["ratio"] is not None and base["whole_ratio"] is not None
    assert raised >= 1  # the ladder really had to work (the added glare light halves the key light's samples)


def test_same_seed_same_png_and_record(scene_twins: tuple) -> None:  # type: ignore[type-arg]
    r, clean = scene_twins
    plan, _ = apply_stress(clean, "local_underexposure", 1)
    ref = r.render_twin(clean, 11).ref
    a, b = r.render_twin(plan, 11, ref), r.render_twin(plan, 11, ref)
    assert encode_rgb(a.arrays.rgb) == encode_rgb(b.arrays.rgb) and a.noise == b.noise
    assert np.array_equal(a.linear, b.linear)
    ref12 = r.render_twin(clean, 12).ref
    assert not np.array_equal(r.render_twin(plan, 12, ref12).arrays.rgb, a.arrays.rgb)


def test_ratio_is_none_without_unchanged_pixels(scene_twins: tuple) -> None:  # type: ignore[type-arg]
    r, clean = scene_twins
    c = r.render_twin(clean, 3)
    assert c.ref is not None
    assert noise_ratio(c.ref, c.ref.noise, np.zeros((64, 64), bool)) is None
    plan, _ = apply_stress(clean, "global_underexposure", 3)  # every pixel changes: nothing to match
    out = r.render_twin(plan, 3, c.ref)
    assert out.noise["ratio"] is None and out.noise["passes"] == 2
