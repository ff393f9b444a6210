"""Render-based: the realised severity moves the declared way as severity rises (several seeds)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from robostress.render.frame import FrameArrays
from robostress.render.renderer import Renderer, RenderSettings
from robostress.scene.assets import assets_available
from robostress.scene.plan import ScenePlan
from robostress.scene.sample import sample_scene
from robostress.stress.base import all_stresses, apply_stress
from robostress.stress.measures import MeasureInput, measure

SEEDS = (0, 1, 2)
SETTINGS = RenderSettings(width=64, height=64, spp=9, sampler="orthogonal", max_depth=6)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(SETTINGS)


@pytest.fixture(scope="module")
def clean_frames(renderer: Renderer) -> Callable[[str, int], tuple[ScenePlan, FrameArrays]]:
    """The clean scene of (family, seed) and its render, made once for all 16 sub-types (the same
    plan and pixels every sub-type computed afresh before: sampling is seeded, rendering too).
    The arrays are read-only, so a measure that wrote into its clean twin would fail here."""
    made: dict[tuple[str, int], tuple[ScenePlan, FrameArrays]] = {}

    def get(family: str, seed: int) -> tuple[ScenePlan, FrameArrays]:
        if (family, seed) not in made:
            clean = sample_scene(family, seed, 0)
            arrays = renderer.render(clean, seed)
            for a in (arrays.rgb, arrays.ids, arrays.depth, arrays.free, *arrays.amodal.values()):
                a.setflags(write=False)
            made[family, seed] = (clean, arrays)
        return made[family, seed]

    return get


FAMILIES = ["tabletop"] + (["lab_tabletop"] if assets_available() else [])


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("spec", all_stresses(), ids=lambda s: s.subtype)
@pytest.mark.slow
def test_realised_measure_is_monotonic(spec, family: str, renderer: Renderer,  # type: ignore[no-untyped-def]
                                      clean_frames: Callable[[str, int], tuple[ScenePlan, FrameArrays]]) -> None:
    checked = 0
    for seed in SEEDS:
        clean, clean_arrays = clean_frames(family, seed)
        values = []
        for sev in range(1, 6):
            plan, rec = apply_stress(clean, spec.subtype, sev)
            if rec.skipped:
                break
            arrays = renderer.render(plan, seed)
            values.append(measure(spec.measure, MeasureInput(plan, arrays, clean, clean_arrays)))
        if len(values) < 5:
            continue
        checked += 1
        v = np.asarray(values) * spec.direction
        # Non-decreasing in the declared direction (small tolerance for render noise at 64 px,
        # plus one pixel's share of the frame: a target a few pixels large at 64 px quantises),
        # and clearly moving from severity 1 to 5.
        tol = 0.02 * (np.abs(v).max() + 1e-9) + 1.0 / (SETTINGS.width * SETTINGS.height)
        assert (np.diff(v) >= -tol).all(), f"{spec.subtype} seed {seed}: {values}"
        assert v[-1] > v[0], f"{spec.subtype} seed {seed}: {values}"
    assert checked >= 2, f"{spec.subtype}: too few scenes could realise all severities"
