"""A tiny box rasteriser standing in for the Mitsuba renderer where only geometry matters.

It projects each object's bounding cylinder with the plan's own camera (the same pinhole model
the renderer matches), fills its box far-to-near, and derives ids, free space and per-object
ground truth from those pixels, so visibility, occlusion and frame cuts follow the geometry.
An object inside a container is drawn right after its container, and only above the container's
front rim (``robostress.scene.containers.below_rim``): the front wall hides the rest.
Question generation on its frames is exact and fast (milliseconds a scene, no Mitsuba): the
fast tests and the text-only leakage measurement (``robostress.evaluate.leakage``) use it.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from robostress.core.records import CLEAN, StressRecord
from robostress.errors import LayoutError
from robostress.questions import generate_items
from robostress.questions.item import Item
from robostress.render.frame import Frame, FrameArrays, ObjectGT
from robostress.scene.camera import project
from robostress.scene.containers import front_rim, inside
from robostress.scene.objects import world_extent
from robostress.scene.plan import SceneObject, ScenePlan, entity_ids
from robostress.scene.sample import sample_scene


def _box(plan: ScenePlan, pts: np.ndarray, w: int, h: int) -> tuple[int, int, int, int] | None:
    uv, z = project(plan.camera, pts, w, h)
    if (z <= 0).any():
        return None
    (x0, y0), (x1, y1) = np.floor(uv.min(0)).astype(int), np.ceil(uv.max(0)).astype(int)
    return int(x0), int(y0), int(x1), int(y1)


def _cylinder_corners(o: SceneObject) -> np.ndarray:
    (cx, cy), r, z0, z1 = world_extent(o)
    return np.array([[cx + dx * r, cy + dy * r, z] for dx in (-1, 1) for dy in (-1, 1) for z in (z0, z1)])


def _containers(plan: ScenePlan) -> dict[str, SceneObject]:
    """Object id -> the container it rests inside."""

    by_id = {o.id: o for o in plan.objects}
    return {o.id: by_id[o.support_id] for o in plan.objects
            if o.support_id in by_id and inside(o, by_id[o.support_id])}


def _rim_row(plan: ScenePlan, container: SceneObject, w: int, h: int) -> float:
    """Image row of a container's front rim."""

    uv, _ = project(plan.camera, front_rim(container, plan.camera.position)[None], w, h)
    return float(uv[0, 1])


def box_render(plan: ScenePlan, stress: StressRecord = CLEAN, size: tuple[int, int] = (160, 120),
                hide: tuple[str, ...] = ()) -> tuple[Frame, FrameArrays]:
    """Frame record and arrays of ``plan`` (objects in ``hide`` get no pixels)."""
    w, h = size
    number = {e: k + 1 for k, e in enumerate(entity_ids(plan))}
    ids = np.zeros((h, w), np.uint16)
    for s in plan.supports:
        top = np.array([[s.center[0] + dx * s.size[0] / 2, s.center[1] + dy * s.size[1] / 2, s.center[2]]
                        for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1))])
        uv, _ = project(plan.camera, top, w, h)
        cv2.fillPoly(ids, [np.round(uv).astype(np.int32)], int(number[s.id]))
    free = np.where(ids > 0, ids, 0).astype(np.uint16)
    cam = np.asarray(plan.camera.position)
    amodal: dict[str, tuple[int, int]] = {}
    held = _containers(plan)

    def far(o: SceneObject) -> tuple[float, int]:  # an object in a container: just after the container
        c = held.get(o.id, o)
        return -float(np.linalg.norm(np.asarray(c.position) - cam)), int(o.id in held)

    for o in sorted(plan.objects, key=far):
        b = _box(plan, _cylinder_corners(o), w, h)
        if b is None:
            amodal[o.id] = (0, 0)
            continue
        x0, y0, x1, y1 = b
        cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        inside = max(0, cx1 - cx0) * max(0, cy1 - cy0)
        amodal[o.id] = (inside, (x1 - x0) * (y1 - y0))
        free[max(y0 - 1, 0):max(y1 + 1, 0), max(x0 - 1, 0):max(x1 + 1, 0)] = 0
        if o.id in held:  # rows below the container's front rim are behind its front wall
            cy1 = min(cy1, max(int(np.floor(_rim_row(plan, held[o.id], w, h))), 0))
        if o.id not in hide and inside:
            ids[cy0:cy1, cx0:cx1] = number[o.id]
    if plan.gripper is not None:
        g = np.asarray(plan.gripper.position)
        b = _box(plan, np.array([g + [dx, 0, dz] for dx in (-0.02, 0.02) for dz in (0, 0.06)]), w, h)
        if b:
            ids[max(b[1], 0):max(b[3], 0), max(b[0], 0):max(b[2], 0)] = number["gripper"]
    free[ids != free] = 0
    objs = []
    for o in plan.objects:
        m = ids == number[o.id]
        ys, xs = np.nonzero(m)
        am, total = amodal[o.id]
        objs.append(ObjectGT(id=o.id, visible_px=int(m.sum()), amodal_px=am, amodal_total_px=total,
                             visible_fraction=float(m.sum() / am) if am else 0.0,
                             out_of_frame_fraction=1.0 - am / total if total else 1.0,
                             bbox=(int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())) if len(xs) else None,
                             centroid=(float(xs.mean()), float(ys.mean())) if len(xs) else None))
    clean_id = f"{plan.scene_id}/clean"
    fid = clean_id if stress.severity == 0 else f"{plan.scene_id}/{stress.subtype}/s{stress.severity}"
    frame = Frame(frame_id=fid, scene_id=plan.scene_id, clean_frame_id=clean_id, stress=stress,
                  plan_hash=plan.content_hash(), width=w, height=h, image=f"images/{fid}.png",
                  mask=f"masks/{fid}.png", depth=f"depth/{fid}.png", free=f"free/{fid}.png", hashes={},
                  id_map={str(k): e for e, k in number.items()}, objects=tuple(objs), render={})
    arrays = FrameArrays(rgb=np.zeros((h, w, 3), np.uint8), ids=ids, depth=np.zeros((h, w), np.float32),
                         free=free, id_map={k: e for e, k in number.items()})
    return frame, arrays


def sampled_plans(family: str, seed: int, num_scenes: int) -> Iterator[tuple[int, ScenePlan]]:
    """(index, plan) of the first ``num_scenes`` scenes of ``family``, leaving out a scene that
    cannot be laid out, as a build skips it (a rare household scene; no lab scene of the train or
    test splits)."""
    for i in range(num_scenes):
        try:
            yield i, sample_scene(family, seed, i)
        except LayoutError:
            continue


def sampled_clean_items(seed: int, num_scenes: int, families: tuple[str, ...] = ("tabletop", "kitchen_shelf")
                        ) -> list[Item]:
    """Clean-twin items of ``num_scenes`` sampled scenes per family (less those that cannot be laid
    out), each scene at its ordinal (as a benchmark build numbers them), rendered by ``box_render``."""

    out: list[Item] = []
    for family in families:
        for i, plan in sampled_plans(family, seed, num_scenes):
            frame, arrays = box_render(plan)
            out += generate_items(plan, frame, [(plan, frame, arrays)], seed, ordinal=i)[0]
    return out
