"""Lighting stresses: change only the emitters (``lights``) and shadow casters (``casters``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from robostress.errors import StressNotApplicable
from robostress.scene.camera import project
from robostress.scene.plan import Caster, Light, ScenePlan
from robostress.stress.base import stress
from robostress.stress.common import first_target


def _scale_lights(plan: ScenePlan, factor: float) -> ScenePlan:
    lights = tuple(li.model_copy(update={"intensity": li.intensity * factor}) for li in plan.lights)
    return plan.model_copy(update={"lights": lights})


@stress("lighting", "global_underexposure", measure="image_luminance", direction=-1,
        severities=[{"ev": -e} for e in (1.0, 2.0, 3.0, 4.0, 5.0)])
def global_underexposure(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """Every emitter scaled down by 2^EV stops."""
    return _scale_lights(plan, 2.0 ** p["ev"])


@stress("lighting", "global_overexposure", measure="clipped_fraction", direction=+1,
        severities=[{"ev": e} for e in (0.3, 0.6, 1.0, 1.5, 2.2)])
def global_overexposure(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """Every emitter scaled up by 2^EV stops."""
    return _scale_lights(plan, 2.0 ** p["ev"])


def _target_centre(plan: ScenePlan) -> np.ndarray:
    t = first_target(plan)
    return np.array([t.position[0], t.position[1], t.position[2] + t.size[2] / 2])


CASTER_SIZES = (0.22, 0.32, 0.42, 0.54, 0.7)  # metres, square


@stress("lighting", "local_underexposure", measure="shadowed_fraction", direction=+1,
        severities=[{"caster_size": s} for s in CASTER_SIZES])
def local_underexposure(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """An out-of-frame blocker between the key light and the target casts a growing shadow."""
    key = next((li for li in plan.lights if li.role == "key"), None)
    if key is None:
        raise StressNotApplicable("scene has no key light to block")
    t, light = _target_centre(plan), np.asarray(key.position)
    # One position for every severity, the one the largest caster needs to stay out of frame:
    # casters then nest (a larger one shades a superset), so the shadow grows with severity.
    half = CASTER_SIZES[-1] / 2
    for f in np.linspace(0.3, 0.85, 23):  # nearest the target that the camera cannot see
        c = t + f * (light - t)
        corners = c + np.array([[-half, -half, 0], [half, -half, 0], [half, half, 0], [-half, half, 0]])
        uv, z = project(plan.camera, corners, 100, 100)
        if (z < 0).all() or ((z > 0).all() and (uv[:, 1] < -2).all()):
            caster = Caster(id="cast0", center=tuple(float(x) for x in c), size=(float(p["caster_size"]),) * 2)  # type: ignore[arg-type]
            return plan.model_copy(update={"casters": plan.casters + (caster,)})
    raise StressNotApplicable("no out-of-frame position for a shadow caster between light and target")


@stress("lighting", "local_overexposure", measure="target_clipped_fraction", direction=+1,
        severities=[{"intensity": i} for i in (4.0, 8.0, 16.0, 32.0, 64.0)])
def local_overexposure(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """A narrow glare spot light aimed at the target, growing brighter (a hot spot)."""
    t = _target_centre(plan)
    cam = np.asarray(plan.camera.position)
    side = 1.0 if g.random() < 0.5 else -1.0
    pos = t + np.array([0.25 * side, -0.25, 0.55]) + 0.15 * (cam - t) / np.linalg.norm(cam - t)
    spot = Light(id="glare", kind="spot", role="glare", position=tuple(float(x) for x in pos),  # type: ignore[arg-type]
                 target=tuple(float(x) for x in t), intensity=float(p["intensity"]), cutoff_deg=9.0,  # type: ignore[arg-type]
                 color=(1.0, 0.97, 0.9))
    return plan.model_copy(update={"lights": plan.lights + (spot,)})
