"""Geometry stresses: change only objects (poses, deformation, and added objects).

An existing object's id, category, size and material never change.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from robostress.core.colour import PALETTE
from robostress.errors import StressNotApplicable
from robostress.scene.assets import asset_catalog, load_asset
from robostress.scene.catalogue import asset_material
from robostress.scene.objects import get_category, world_extent
from robostress.scene.plan import Deformation, Material, SceneObject, ScenePlan
from robostress.stress.base import stress
from robostress.stress.common import OCCLUDER_PREFIX, first_target, targets_on_supports

NEUTRAL = Material(color_name="white", rgb=(0.8, 0.8, 0.8))
MARGIN = 0.01


def _discs(obj: SceneObject) -> list[tuple[float, float, float]]:
    """Footprint as discs (x, y, r): one for compact objects, a row of small ones for panels."""
    (cx, cy), r, _, _ = world_extent(obj)
    w, d = obj.size[0], obj.size[1]
    if w < 3 * d:
        return [(cx, cy, r)]
    a = math.radians(obj.yaw_deg)
    n = int(math.ceil(w / d))
    return [(cx + t * math.cos(a), cy + t * math.sin(a), d / 2 * 1.5)
            for t in np.linspace(-(w - d) / 2, (w - d) / 2, n)]


def _collides(plan: ScenePlan, obj: SceneObject, ignore: set[str]) -> bool:
    _, _, z0, z1 = world_extent(obj)
    mine = _discs(obj)
    for o in plan.objects:
        if o.id in ignore:
            continue
        _, _, oz0, oz1 = world_extent(o)
        if z0 < oz1 and oz0 < z1 and any(math.hypot(x - ox, y - oy) < r + orr + MARGIN
                                         for x, y, r in mine for ox, oy, orr in _discs(o)):
            return True
    return False


def _on_support(plan: ScenePlan, obj: SceneObject) -> bool:
    (cx, cy), r, _, _ = world_extent(obj)
    s = plan.support(obj.support_id)
    return abs(cx - s.center[0]) + r < s.size[0] / 2 and abs(cy - s.center[1]) + r < s.size[1] / 2


@stress("geometry", "occlusion", measure="target_visible_fraction", direction=-1,
        severities=[{"cover": c} for c in (0.15, 0.3, 0.45, 0.6, 0.75)])
def occlusion(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """A panel stands between the camera and the target, taller at each severity.

    Its height is ``cover`` times the height that would just hide the target's far top edge
    from the camera, so a flat box and a tall bottle are hidden alike at equal severity.
    """
    on_table = targets_on_supports(plan)
    if not on_table:
        raise StressNotApplicable("every target rests on another object")
    for t in on_table:  # the first target with room for a panel in front of it
        out = _panel_before(plan, t, float(p["cover"]))
        if out is not None:
            return out
    raise StressNotApplicable("no free space for an occluder between the camera and a target")


def _panel_before(plan: ScenePlan, t: SceneObject, cover: float) -> ScenePlan | None:
    (tx, ty), tr, tz0, tz1 = world_extent(t)
    cam = np.asarray(plan.camera.position, float)
    to_cam = cam[:2] - np.array([tx, ty])
    dist = max(float(np.linalg.norm(to_cam)), 1e-9)
    to_cam /= dist
    yaw = math.degrees(math.atan2(to_cam[1], to_cam[0])) + 90.0
    table = plan.support(t.support_id).center[2]
    for gap in (0.02, 0.04, 0.06, 0.09, 0.13, 0.18, 0.24):
        d = tr + gap + 0.0075
        # the sight line from the camera to the far top edge crosses the panel's plane at z_hide
        z_hide = cam[2] + (tz1 - cam[2]) * (dist - d) / (dist + tr)
        size = (2 * tr + 0.03, 0.015, max(cover * (z_hide - table), 0.005))
        pos = (float(tx + d * to_cam[0]), float(ty + d * to_cam[1]), table)
        occ = SceneObject(id=OCCLUDER_PREFIX + t.id, category="box", material=NEUTRAL, position=pos, yaw_deg=yaw,
                          size=size, support_id=t.support_id, role="occluder")  # type: ignore[arg-type]
        if _on_support(plan, occ) and not _collides(plan, occ, {t.id}):
            return plan.model_copy(update={"objects": plan.objects + (occ,)})
    return None


DEFORM = {"bend_rad": (0.2, 0.4, 0.6, 0.85, 1.1), "twist_rad": (0.5, 1.0, 1.6, 2.3, 3.1),
          "crumple": (0.06, 0.12, 0.19, 0.27, 0.36)}  # crumple: noise amplitude / smallest size


@stress("geometry", "nonrigid_deformation", measure="deformation_amplitude", direction=+1,
        severities=[{k: v[i] for k, v in DEFORM.items()} for i in range(5)])
def nonrigid_deformation(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """Target meshes bend, twist or crumple (kind fixed per scene), with growing amplitude."""
    key = str(g.choice(sorted(DEFORM)))
    kind, amp = key.replace("_rad", ""), float(p[key])
    seed = int(g.integers(0, 2**31))
    objs = tuple(o.model_copy(update={"deformation": Deformation(kind=kind, amplitude=amp, seed=seed)})  # type: ignore[arg-type]
                 if o.id in plan.targets else o for o in plan.objects)
    return plan.model_copy(update={"objects": objs})


@stress("geometry", "stacked_layout", measure="stack_height", direction=+1,
        severities=[{"levels": n} for n in (1, 2, 3, 4, 5)])
def stacked_layout(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """A target is lifted onto a growing stack of books (the first target resting on a support),
    with whatever rests on or in it."""
    t = next(iter(targets_on_supports(plan)), None)
    if t is None:
        raise StressNotApplicable("every target already rests on another object")
    (tx, ty), tr, _, _ = world_extent(t)
    for factor in (1.6, 1.25, 1.0, 0.8):  # books just under the target, smaller if crowded
        out = _stack(plan, t, int(p["levels"]), max(factor * tr, 0.05), float(g.uniform(0, 90)))
        if out is not None:
            return out
    raise StressNotApplicable("a stack under the target would collide with its neighbours")


def _stack(plan: ScenePlan, t: SceneObject, levels: int, side: float, yaw0: float) -> ScenePlan | None:
    colours = ["white", "gray", "brown", "cyan", "pink"]
    thick = get_category("book").nominal_size[2]
    z = plan.support(t.support_id).center[2]
    below, stack = t.support_id, []
    real = _real(plan)
    for i in range(levels):
        if real:  # real books (LIBERO's), alternating covers

            asset: str | None = REAL_BOOKS[i % len(REAL_BOOKS)]
            mat = asset_material(str(asset))
        else:
            asset, mat = None, NEUTRAL if colours[i] == "white" else _palette(colours[i])
        s = SceneObject(id=f"stk{i}", category="book", material=mat, position=(t.position[0], t.position[1], z),
                        yaw_deg=yaw0 + 7.0 * i, size=(side, side * 1.3, thick), support_id=below, role="stack",
                        asset=asset)
        stack.append(s)
        below, z = s.id, z + thick
    lifted = t.model_copy(update={"position": (t.position[0], t.position[1], z), "support_id": below})
    trial = plan.replace_object(lifted)
    riders = _riders(plan, t.id)  # what rests on or in the target rises with it
    for o in riders:
        trial = trial.replace_object(o.model_copy(update={
            "position": (o.position[0], o.position[1], o.position[2] + z - t.position[2])}))
    base = stack[0].model_copy(update={"size": (side, side * 1.3, z - stack[0].position[2])})
    if not _on_support(trial, base) or _collides(trial, base, {t.id, *(o.id for o in riders)}):
        return None
    return trial.model_copy(update={"objects": trial.objects + tuple(stack)})


REAL_BOOKS = ("black_book", "yellow_book")


def _riders(plan: ScenePlan, oid: str) -> list[SceneObject]:
    """Everything stacked on, or put inside, an object (directly or higher up)."""
    out: list[SceneObject] = []
    todo = [oid]
    while todo:
        cur = todo.pop()
        for o in plan.objects:
            if o.support_id == cur:
                out.append(o)
                todo.append(o.id)
    return out


def _real(plan: ScenePlan) -> bool:
    """Whether the scene is made of real textured assets (added objects then are real too)."""
    return any(o.asset is not None for o in plan.objects)


def _clutter_pool(plan: ScenePlan) -> list[str] | None:
    """Real assets clutter may be drawn from (None: a procedural scene gets primitives)."""
    if not _real(plan):
        return None

    taken = {plan.object(i).category for i in plan.targets}
    return sorted(a for a, s in asset_catalog().assets.items()
                  if s.category not in taken and max(load_asset(a).size[:2]) < 0.2)


def _distractor(g: np.random.Generator, k: int, pool: list[str] | None, free_colours: list[str],
                spare: list[str]) -> tuple[str, str | None, Material, tuple[float, float, float]]:
    """(category, asset, material, size) of the k-th clutter object."""
    if pool is not None:
        a = str(g.choice(pool))
        f = g.uniform(0.8, 1.0)
        return asset_catalog().assets[a].category, a, asset_material(a), tuple(float(s * f) for s in load_asset(a).size)  # type: ignore[return-value]
    cat = get_category(str(g.choice(CLUTTER)))
    colour = free_colours[k] if k < len(free_colours) else str(g.choice(spare))
    return cat.name, None, _palette(colour), tuple(float(s * g.uniform(0.8, 1.0)) for s in cat.nominal_size)  # type: ignore[return-value]


CLUTTER = ("block", "can", "ball", "cone", "box", "mug", "bottle", "pyramid")


def _palette(name: str) -> Material:
    return Material(color_name=name, rgb=PALETTE[name])


@stress("geometry", "cluttered_layout", measure="free_fraction", direction=-1,
        severities=[{"distractors": n} for n in (3, 6, 10, 15, 21)])
def cluttered_layout(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """Distractor objects crowd the targets' support (nested: each severity adds to the last)."""
    t = first_target(plan)
    sup = plan.support(t.support_id) if t.support_id in {s.id for s in plan.supports} else plan.supports[0]
    used = {o.material.color_name for o in plan.objects}
    target_colours = {plan.object(i).material.color_name for i in plan.targets}
    free_colours = [c for c in PALETTE if c not in used and c not in ("white", "black")]
    spare = [c for c in PALETTE if c not in target_colours and c not in ("white", "black")]
    pool = _clutter_pool(plan)
    added: list[SceneObject] = []
    current = plan
    for k in range(200):  # the same draws at every severity: clutter grows by nesting
        if len(added) >= int(p["distractors"]):
            break
        cname, asset, mat, size = _distractor(g, k, pool, free_colours, spare)
        ang, rad = g.uniform(0, 2 * math.pi), g.uniform(0.08, 0.35)
        pos = (float(t.position[0] + rad * math.cos(ang)), float(t.position[1] + rad * math.sin(ang)), sup.center[2])
        o = SceneObject(id=f"clt{k:03d}", category=cname, material=mat, position=pos, asset=asset,
                        yaw_deg=float(g.uniform(0, 360)), size=size, support_id=sup.id)
        if _on_support(current, o) and not _collides(current, o, set()):
            added.append(o)
            current = current.model_copy(update={"objects": current.objects + (o,)})
    if not added:
        raise StressNotApplicable("no free space for distractors around the target")
    return current
