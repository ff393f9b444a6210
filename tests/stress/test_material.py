"""complex_texture prints a foreign hue: its second colour, its cell pattern, and what a reader of
hue sees of the target (real Mitsuba at 64 px)."""

from __future__ import annotations

import colorsys

import cv2
import numpy as np
import pytest

from robostress.core.colour import PALETTE
from robostress.models.classical_vision import colour_mask
from robostress.render.mitsuba_scene import BAYER, pattern_tile
from robostress.render.renderer import Renderer, RenderSettings
from robostress.scene.plan import Texture
from robostress.scene.sample import sample_scene
from robostress.stress.base import apply_stress
from robostress.stress.material import FOREIGN_COLOURS, foreign_rgb
from robostress.stress.measures import target_mask


def _hue(rgb: tuple[float, float, float]) -> float:
    return 360.0 * colorsys.rgb_to_hsv(*rgb)[0]


@pytest.mark.parametrize("name", sorted(PALETTE))
def test_second_colour_is_a_saturated_palette_colour_of_another_hue(name: str) -> None:
    second = foreign_rgb(PALETTE[name])
    assert second in [PALETTE[c] for c in FOREIGN_COLOURS]
    if name in FOREIGN_COLOURS:
        d = abs(_hue(second) - _hue(PALETTE[name])) % 360
        assert min(d, 360 - d) > 90, f"{name}: second colour only {min(d, 360 - d):.0f} degrees of hue away"


def test_pattern_share_is_exact_in_every_tile_and_half_is_a_checkerboard() -> None:
    for k in range(17):
        assert pattern_tile(Texture(frequency=1, contrast=1, share=k / 16)).sum() == k
    half = pattern_tile(Texture(frequency=1, contrast=1))
    assert np.array_equal(half, (np.add.outer(np.arange(4), np.arange(4)) % 2 == 0))
    stripes = pattern_tile(Texture(kind="stripes", frequency=1, contrast=1))
    assert (stripes == stripes[0]).all() and stripes[0].tolist() == [True, False, True, False]
    assert BAYER.flatten().tolist() != sorted(BAYER.flatten().tolist())  # dispersed, not a block


def test_severity_raises_the_share_and_strength_of_the_second_colour() -> None:
    plan = sample_scene("tabletop", 0, 0)
    rows = [apply_stress(plan, "complex_texture", s)[0].object(plan.targets[0]).material.texture for s in range(1, 6)]
    assert all(t is not None for t in rows)
    assert [t.share for t in rows] == sorted(t.share for t in rows)  # type: ignore[union-attr]
    assert len({t.rgb2 for t in rows}) == 1, "the same second colour at every severity"  # type: ignore[union-attr]


@pytest.mark.slow
def test_a_reader_of_hue_loses_most_of_the_targets_colour() -> None:
    """The darker checker it replaced left the share of target pixels in the target's own HSV
    colour range unchanged (0.56, 0.45, 0.86 at every severity for these scenes at 96 px)."""
    r = Renderer(RenderSettings(width=64, height=64, spp=4, sampler="orthogonal", max_depth=6))
    for seed in (0, 1, 2):
        clean = sample_scene("tabletop", seed, 0)
        colour = clean.object(clean.targets[0]).material.color_name
        shares = []
        for sev in (0, 3):
            plan = apply_stress(clean, "complex_texture", sev)[0] if sev else clean
            a = r.render(plan, seed)
            hsv = cv2.cvtColor(a.rgb, cv2.COLOR_RGB2HSV)
            shares.append(float(colour_mask(hsv, colour)[target_mask(plan, a)].mean()))
        assert shares[0] > 0.3 and shares[1] < 0.6 * shares[0], f"seed {seed} ({colour}): {shares}"
