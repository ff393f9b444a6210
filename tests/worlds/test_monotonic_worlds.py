"""The stresses' realised severity rises with severity in the new environments too: the lab's
monotonicity check (tests/stress/test_monotonic.py) run on kitchen and study scenes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from robostress.render.frame import FrameArrays
from robostress.render.renderer import Renderer
from robostress.scene.assets import assets_available
from robostress.scene.plan import ScenePlan
from robostress.stress.base import StressSpec, all_stresses
from tests.stress.test_monotonic import clean_frames, renderer  # noqa: F401  (fixtures)
from tests.stress.test_monotonic import test_realised_measure_is_monotonic as monotonic

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not assets_available(), reason="asset packages not installed")]

# Found by this test (seeds 0-2, scene 0, 64 px) and left to the stresses' owners, see docs/worlds.md:
KNOWN = {
    ("local_overexposure", "kitchen"): "a bright target (yellow cookie box) clips fully at s1; lab seed 6's does too",
    ("local_overexposure", "study"): "a bright target clips fully at s1 (as in the lab for bright targets)",
    ("occlusion", "kitchen"): "a tipped flat box seen from 0.56 m above the counter: the panel hides none of it",
    ("low_contrast_blend", "study"): "s4 -> s5 rises 0.65 delta E (tolerance 0.41) on one scene",
}


def _cases() -> list[object]:
    return [pytest.param(s, f, id=f"{s.subtype}-{f}",
                         marks=[pytest.mark.xfail(reason=KNOWN[s.subtype, f], strict=False)] if (s.subtype, f) in KNOWN else [])
            for f in ("kitchen", "study") for s in all_stresses()]


@pytest.mark.parametrize(("spec", "family"), _cases())
def test_realised_measure_is_monotonic_in_new_environments(
        spec: StressSpec, family: str, renderer: Renderer,  # noqa: F811
        clean_frames: Callable[[str, int], tuple[ScenePlan, FrameArrays]]) -> None:  # noqa: F811
    monotonic(spec, family, renderer, clean_frames)
