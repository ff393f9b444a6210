"""Helpers shared by the stress sub-types (pure functions on plans)."""

from __future__ import annotations

from collections.abc import Callable

from robostress.errors import StressNotApplicable
from robostress.scene.plan import Material, SceneObject, ScenePlan, Support

OCCLUDER_PREFIX = "occ_"  # an occluder panel's id names the target it hides: "occ_obj02"


def first_target(plan: ScenePlan) -> SceneObject:
    """The first target object (StressNotApplicable if the scene has none)."""
    if not plan.targets:
        raise StressNotApplicable("scene has no target object")
    return plan.object(plan.targets[0])


def map_target_materials(plan: ScenePlan, fn: Callable[[SceneObject, Material], Material]) -> ScenePlan:
    """Replace the material of every target with ``fn(obj, material)``."""
    objs = tuple(o.model_copy(update={"material": fn(o, o.material)}) if o.id in plan.targets else o
                 for o in plan.objects)
    return plan.model_copy(update={"objects": objs})


def root_support(plan: ScenePlan, obj: SceneObject) -> Support:
    """The support at the bottom of whatever stack an object rests on."""
    ids = {o.id: o for o in plan.objects}
    cur = obj
    while cur.support_id in ids:
        cur = ids[cur.support_id]
    return plan.support(cur.support_id)


def support_rgb(plan: ScenePlan, obj: SceneObject) -> tuple[float, float, float]:
    """Albedo of the surface an object's stack rests on."""
    return root_support(plan, obj).material.rgb


def targets_on_supports(plan: ScenePlan) -> list[SceneObject]:
    """Targets resting directly on a support (not on another object), in target order."""
    supports = {s.id for s in plan.supports}
    return [plan.object(i) for i in plan.targets if plan.object(i).support_id in supports]
