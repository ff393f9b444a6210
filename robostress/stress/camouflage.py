"""Camouflage colours: the albedo at which a target would look like its surround in the image.

``low_contrast_blend`` moves a target's albedo toward a colour. Moving it toward the albedo of
the table it rests on is not enough: the object and the table around it are lit differently
(the object's sides face away from the light, the table around it lies in the object's shadow,
glossy objects add reflections), so the image contrast was least before the albedos matched and
rose again after (2 of 16 lab scenes at s5: 2.1 then 5.6 ΔE). The colour to blend toward is the
one that makes the object's *pixels* match the *pixels* around it.

That colour is found from two small probe renders of the clean plan, with every target's albedo
set to a flat gray of two known levels. A diffuse surface's radiance is linear in its albedo, so
per pixel and channel ``radiance = D * albedo + S`` (``D`` the shading, ``S`` whatever does not
depend on the albedo: gloss, emitted and reflected light). The two probes give ``D`` and ``S`` for
every pixel of the target, and a few Gauss-Newton steps find the flat albedo whose pixels have
the same mean CIELAB as the ring of pixels around the target (the quantity
``target_contrast`` measures). Blending by ``t`` then moves every pixel of the target on a straight
line from its clean radiance toward that match, so the contrast falls as ``t`` rises. Where the
match is out of reach (an albedo above 1 would be needed) or interreflections make radiance
grow faster than linearly, four more probes along the path find where the contrast is least,
and the blend stops there (``Camouflage.reach``).

The colour enters the stressed plan, so it must come out the same on every machine (the
benchmark's identity covers the plans, docs/integrity.md). The probes therefore always render in
``scalar_rgb`` whatever the build's variant: the JIT variants' Monte Carlo noise at 8 spp moved
the colours by 0.02-0.03 between ``scalar_rgb`` and ``llvm_ad_rgb``, and Dr.Jit's LLVM code for
another vector width (AVX-512: 16 lanes against AVX2's 8) moved them by ~3e-7, enough to cross a
rounding boundary now and then. ``scalar_rgb`` is the same code on every x86 machine and at any
thread count; what is left (ULPs of numpy's SIMD transcendentals, Embree's ISA paths) is absorbed
by rounding the colours to ``RGB_STEP`` and the path's contrasts to ``CONTRAST_STEP`` before they
pick anything. The probes are a pure, seeded function of the plan, cached per plan; they cost
about 8 s per scene on 2 busy cores (scalar), against about 100 s for the scene's 81 frames.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from robostress.core.colour import lab_linear, linear_to_srgb8
from robostress.render.renderer import Renderer, RenderSettings
from robostress.scene.plan import Material, SceneObject, ScenePlan
from robostress.stress.common import map_target_materials, support_rgb
from robostress.stress.measures import surround_contrast, surround_ring

PROBE_SIZE = 96  # px, square
PROBE_SPP = 8  # per pass (2 passes)
PROBE_SEED = 0
GRAYS = (0.15, 0.6)  # the two flat albedos of the probes
MIN_PIXELS = 6  # fewer visible target pixels in the probe: fall back to the support's albedo
STEPS = 8  # Gauss-Newton steps (the start is already close: the linear-mean solution)
REACH_STEPS = (0.25, 0.5, 0.75, 1.0)  # blends rendered to find where the contrast is least
PROBE_VARIANT = "scalar_rgb"  # the same probe pixels whatever variant builds the frames
RGB_STEP = 0.005  # colours are multiples of this (linear albedo): far above the probes' float noise
CONTRAST_STEP = 0.01  # delta E: the path's contrasts are rounded to this before the least is chosen


class Camouflage(NamedTuple):
    """Where a target's blend goes: toward ``rgb``, and at most ``reach`` of the way."""

    rgb: tuple[float, float, float]
    reach: float  # 1.0, or less where the blend would pass its least contrast before the end


def camouflage(plan: ScenePlan) -> dict[str, Camouflage]:
    """For every target of ``plan``: the flat albedo whose pixels look like the pixels around it,
    and how far toward it a blend may go while the contrast still falls.

    Where the match is out of reach (the surround is brighter than the target could be under its
    own shading, so the colour is clamped to 1), the straight path from the clean pixels to the
    clamped colour can pass its least contrast before the end and then rise again; so can a
    concave object, whose interreflections brighten it faster than linearly as its albedo nears
    1 (a white mug on a wooden table: 7.8, 6.2, 5.7, 6.5, 8.1 ΔE at s1..s5). Probes of the blend
    at 1/4, 1/2, 3/4 and all of the way measure the contrast on the path; ``reach`` is the one
    where it is least, and severity blends scale to it, so they stop there. A target hidden in the probe (fewer
    than ``MIN_PIXELS`` pixels) gets the albedo of the surface it rests on and reach 1.
    """
    import mitsuba as mi

    active = mi.variant()
    try:
        return {tid: Camouflage(rgb, reach) for tid, rgb, reach in _camouflage(plan.to_json())}
    finally:  # the probe switches Mitsuba's process-wide variant; the build's comes back
        if active and mi.variant() != active:
            mi.set_variant(active)


def _steps(x: np.ndarray, step: float) -> np.ndarray:
    """``x`` rounded to a multiple of ``step`` (the decimal it prints as, so JSON keeps it exact)."""
    digits = max(0, -int(np.floor(np.log10(step))) + 1)
    return np.round(np.round(np.asarray(x, np.float64) / step) * step, digits)


@lru_cache(maxsize=64)
def _camouflage(plan_json: str) -> tuple[tuple[str, tuple[float, float, float], float], ...]:
    plan = ScenePlan.model_validate_json(plan_json)
    probe = Renderer(RenderSettings(width=PROBE_SIZE, height=PROBE_SIZE, spp=PROBE_SPP, noise_ratio=None,
                                    variant=PROBE_VARIANT, denoise=None))  # raw: the same on every machine
    def flat(v: float) -> ScenePlan:
        return map_target_materials(plan, lambda o, m: m.model_copy(update={
            "blend": 1.0, "blend_rgb": (v, v, v), "albedo_scale": 1.0, "texture": None}))

    first = probe.render_twin(flat(GRAYS[0]), PROBE_SEED)  # ground truth once: the masks
    arrays, lo = first.arrays, first.linear.astype(np.float64)
    hi = probe.render_linear(flat(GRAYS[1]), PROBE_SEED)[0].astype(np.float64)
    goals: dict[str, tuple[float, float, float]] = {}
    for tid in plan.targets:
        mask = arrays.mask_of(tid)
        ring = surround_ring(mask)
        if mask.sum() < MIN_PIXELS or not ring.any():
            goals[tid] = support_rgb(plan, plan.object(tid))
            continue
        d = (hi[mask] - lo[mask]) / (GRAYS[1] - GRAYS[0])
        s = lo[mask] - d * GRAYS[0]
        cr, cg, cb = (float(c) for c in _steps(_match(d, s, 0.5 * (lo[ring] + hi[ring])), RGB_STEP))
        goals[tid] = (cr, cg, cb)
    # the contrast along the path, rendered: interreflection (the inside of a white mug) makes
    # radiance grow faster than linearly as the albedo nears 1, which the two probes cannot see
    path: dict[str, list[float]] = {tid: [] for tid in plan.targets}
    for t in REACH_STEPS:
        toward = {tid: (t, rgb) for tid, rgb in goals.items()}
        rgb = linear_to_srgb8(probe.render_linear(_blended(plan, toward), PROBE_SEED)[0])
        for tid in plan.targets:
            c = surround_contrast(rgb, arrays.mask_of(tid))  # blending changes colours, not masks
            path[tid].append(float("inf") if c is None else float(_steps(c, CONTRAST_STEP)))
    return tuple((tid, goals[tid], REACH_STEPS[int(np.argmin(path[tid]))]) for tid in plan.targets)


def _match(d: np.ndarray, s: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """The flat albedo c in [0, 1]^3 whose pixels ``d * c + s`` have the ring's mean CIELAB."""
    goal = lab_linear(np.clip(ring, 0, 1)).mean(0)

    def lab_mean(c: np.ndarray) -> np.ndarray:
        return lab_linear(np.clip(d * c + s, 0, 1)).mean(0)

    c = np.clip((ring.mean(0) - s.mean(0)) / np.maximum(d.mean(0), 1e-4), 0, 1)  # match linear means
    eps = 1e-3
    for _ in range(STEPS):
        r = lab_mean(c) - goal
        jac = np.stack([(lab_mean(c + eps * e) - lab_mean(c)) / eps for e in np.eye(3)], -1)
        step = np.linalg.lstsq(jac, -r, rcond=None)[0]
        c = np.clip(c + step, 0, 1)
    return c


def blend_toward(plan: ScenePlan, t: float) -> ScenePlan:
    """Every target's albedo blended by ``t`` times its reach toward its camouflage colour."""
    return _blended(plan, {tid: (round(float(t) * c.reach, 4), c.rgb) for tid, c in camouflage(plan).items()})


def _blended(plan: ScenePlan, toward: dict[str, tuple[float, tuple[float, float, float]]]) -> ScenePlan:
    """Each target's albedo blended by its weight toward its colour (``toward``: id -> both)."""
    def blend(o: SceneObject, m: Material) -> Material:
        w, rgb = toward[o.id]
        return m.model_copy(update={"blend": w, "blend_rgb": rgb})

    return map_target_materials(plan, blend)
