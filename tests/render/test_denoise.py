"""Denoised passes (renderer r9): noise measured where the model looks, matched to the clean twin,
and the stresses kept. Real Mitsuba renders at 64 px and real Open Image Denoise."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from robostress.errors import ConfigError
from robostress.render.io import encode_rgb
from robostress.render.noise import (
    QUANT_VAR,
    PassStack,
    frame_noise,
    make_ref,
    rms8,
    srgb_levels,
    twin_ratios,
)
from robostress.render.renderer import Renderer, RenderSettings, render_settings
from robostress.scene.sample import sample_scene
from robostress.stress.base import apply_stress
from robostress.stress.measures import MeasureInput, measure

S = RenderSettings(width=64, height=64, spp=2, max_depth=6)  # the defaults: oidn, 2 passes, all sets matched


def _stack(level: np.ndarray, sigma: float, n: int, seed: int) -> PassStack:
    g = np.random.default_rng(seed)
    st = PassStack()
    for _ in range(n):
        st.add(level + g.normal(0.0, sigma, level.shape))
    return st


def test_rms8_adds_the_rounding_to_the_render_noise() -> None:
    noise = np.full((4, 4), 0.5)
    assert rms8(noise, np.ones((4, 4), bool)) == pytest.approx(math.sqrt(0.25 + 1 / 12))
    assert rms8(np.zeros((4, 4)), np.ones((4, 4), bool)) == pytest.approx(math.sqrt(QUANT_VAR))


def test_twin_ratios_compare_the_same_non_clipped_and_target_pixels() -> None:
    """Whole: pixels clipped in neither twin; target: the target's pixels in both. The stressed
    twin's noise is doubled on the target only: the target ratio shows it, the whole ratio
    dilutes it, and clipped pixels (no noise to see) are left out of both."""
    h = w = 48
    level = np.full((h, w, 3), 0.02)
    level[:, 40:] = 1.5  # clipped columns
    ids = np.ones((h, w), np.uint16)
    ids[10:30, 10:30] = 2  # the target
    id_map = {1: "table", 2: "mug"}
    clean = _stack(level, 0.002, 4, 0)
    ref = make_ref(clean, ids, id_map, np.ones((h, w), np.float32))
    assert ref.clipped is not None and ref.clipped[:, 40:].all() and not ref.clipped[:, :40].any()
    noisy = level + np.where((ids == 2)[..., None], 0.0, 0.0)
    st = PassStack()
    g = np.random.default_rng(1)
    for _ in range(4):
        sig = np.where((ids == 2)[..., None], 0.004, 0.002)
        st.add(noisy + g.normal(0.0, 1.0, level.shape) * sig)
    r = twin_ratios(ref, st.noise(), srgb_levels(st.mean_linear()), ids, id_map, ("mug",))
    # sigma in levels on the target: about 2x; rms8 with the rounding floor gives less than 2x
    sig_c = float(ref.noise[ids == 2].mean())
    expect = math.sqrt((2 * sig_c) ** 2 + QUANT_VAR) / math.sqrt(sig_c ** 2 + QUANT_VAR)
    assert r["target"] == pytest.approx(expect, rel=0.1) and r["target"] > 1.3
    assert r["whole"] is not None and 1.0 < r["whole"] < r["target"]
    hidden = twin_ratios(ref, st.noise(), srgb_levels(st.mean_linear()), ids, {1: "table"}, ("mug",))
    assert hidden["target"] is None  # the target not visible in the stressed twin: no target figure
    own = frame_noise(st.noise(), srgb_levels(st.mean_linear()), ids == 2)
    assert own["target"] is not None and own["whole"] is not None and own["target"] > own["whole"]


@pytest.fixture(scope="module")
def twins() -> tuple[Renderer, object]:
    return Renderer(S), sample_scene("tabletop", 0, 0)


def test_denoised_frames_are_deterministic_and_recorded(twins: tuple) -> None:  # type: ignore[type-arg]
    r, clean = twins
    c = r.render_twin(clean, 5)
    assert c.noise["noise8"] is not None and c.noise["target_noise8"] is not None
    assert c.noise["whole_ratio"] is None  # a clean frame has no twin to compare with
    plan, _ = apply_stress(clean, "local_underexposure", 3)
    a, b = r.render_twin(plan, 5, c.ref), r.render_twin(plan, 5, c.ref)
    assert encode_rgb(a.arrays.rgb) == encode_rgb(b.arrays.rgb) and a.noise == b.noise
    assert a.noise["whole_ratio"] is not None and a.noise["target_ratio"] is not None
    assert "oidn" in r.describe() and r.describe()["denoise"] == "oidn"  # part of every cache key


@pytest.mark.slow
@pytest.mark.parametrize("sub", ["local_underexposure", "local_overexposure", "global_underexposure",
                                 "global_overexposure", "transparent", "small_scale"])
def test_denoised_twins_hold_whole_and_target_noise_within_the_bound(twins: tuple, sub: str) -> None:  # type: ignore[type-arg]
    r, clean = twins
    c = r.render_twin(clean, 3)
    for sev in (1, 3, 5):
        plan, rec = apply_stress(clean, sub, sev)
        if rec.skipped:
            continue
        n = r.render_twin(plan, 3, c.ref).noise
        for key in ("whole_ratio", "target_ratio", "ratio"):
            assert n[key] is None or n[key] <= 1.15 or n["passes"] == 2 * S.spp_ladder[-1], (sub, sev, n)
        assert n["whole_ratio"] is not None


def test_raw_passes_at_the_same_samples_break_the_bound_the_denoiser_keeps(twins: tuple) -> None:  # type: ignore[type-arg]
    """Why r9 denoises: local underexposure raises the grain on the pixels it darkens, which the
    unchanged-pixel rule of r8 never saw. Raw passes show it on the whole frame or the target."""
    _, clean = twins
    raw = Renderer(RenderSettings(width=64, height=64, spp=2, max_depth=6, denoise=None, noise_ratio=None))
    den = Renderer(RenderSettings(width=64, height=64, spp=2, max_depth=6, noise_ratio=None))
    plan, _ = apply_stress(clean, "local_underexposure", 5)
    worst = {}
    for name, r in (("raw", raw), ("denoised", den)):
        c = r.render_twin(clean, 3)
        n = r.render_twin(plan, 3, c.ref).noise
        worst[name] = max(v for v in (n["whole_ratio"], n["target_ratio"]) if v is not None)
        assert c.noise["noise8"] is not None
    assert worst["raw"] > 1.15 > worst["denoised"], worst


STRESS_KEPT = [("complex_texture", 4, 0.15), ("low_contrast_blend", 3, 0.15), ("local_underexposure", 3, 0.1),
               ("global_overexposure", 3, 0.1), ("specular_confusion", 4, 0.2), ("transparent", 4, 0.2)]


@pytest.mark.slow
@pytest.mark.parametrize("sub,sev,tol", STRESS_KEPT)
def test_the_denoiser_keeps_the_stress(sub: str, sev: int, tol: float) -> None:
    """Realised measures of denoised twins stay within ``tol`` (relative) of a 256-spp raw
    reference of the same frames, and the texture of complex_texture keeps its high frequencies."""
    clean = sample_scene("tabletop", 0, 1)
    plan, rec = apply_stress(clean, sub, sev)
    assert rec.skipped is None and rec.measure is not None
    ref_r = Renderer(RenderSettings(width=96, height=96, spp=16, max_depth=8, denoise=None, noise_ratio=None,
                                    passes=16))
    den = Renderer(RenderSettings(width=96, height=96, spp=2, max_depth=8))
    got = {}
    for name, r in (("ref", ref_r), ("den", den)):
        c = r.render_twin(clean, 9)
        s = r.render_twin(plan, 9, c.ref)
        got[name] = (measure(rec.measure, MeasureInput(plan, s.arrays, clean, c.arrays)), s.arrays, plan)
    a, b = got["den"][0], got["ref"][0]
    assert abs(a - b) <= tol * max(abs(b), 1e-3), (sub, a, b)
    if sub == "complex_texture":  # the print's detail: high-pass energy on the target
        def hp(arr: object) -> float:
            rgb = arr.rgb.astype(np.float64).mean(-1)  # type: ignore[attr-defined]
            lap = np.abs(4 * rgb[1:-1, 1:-1] - rgb[:-2, 1:-1] - rgb[2:, 1:-1] - rgb[1:-1, :-2] - rgb[1:-1, 2:])
            m = np.zeros_like(rgb, bool)
            for t in plan.targets:
                m |= arr.mask_of(t)  # type: ignore[attr-defined]
            return float(lap[m[1:-1, 1:-1]].mean())
        assert hp(got["den"][1]) >= 0.85 * hp(got["ref"][1]), (hp(got["den"][1]), hp(got["ref"][1]))


def test_bad_denoise_settings_and_a_missing_pyoidn(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="unknown denoiser 'nlm'"):
        RenderSettings(denoise="nlm")
    with pytest.raises(ConfigError, match="denoise_quality must be one of"):
        RenderSettings(denoise_quality="ultra")
    with pytest.raises(ConfigError, match="match must name"):
        RenderSettings(match=("edges",))
    with pytest.raises(ConfigError, match=r"unknown renderer setting\(s\) \['spp_per_pass'\]"):
        render_settings({"spp_per_pass": 4}, 64, 64)
    assert render_settings({"spp": 2, "match": ["whole"]}, 32, 48) == RenderSettings(width=32, height=48, spp=2,
                                                                                    match=("whole",))
    monkeypatch.setitem(sys.modules, "pyoidn", None)
    with pytest.raises(ConfigError, match="needs the pyoidn package: pip install pyoidn"):
        Renderer(RenderSettings(width=32, height=32))
    Renderer(RenderSettings(width=32, height=32, denoise=None))  # raw passes need no denoiser
