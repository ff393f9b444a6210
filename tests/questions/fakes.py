"""Hand-built scenes and a tiny box rasteriser standing in for the renderer in fast tests.

The rasteriser projects each object's bounding cylinder with the plan's own camera (the same
pinhole model the renderer matches), fills its box far-to-near, and derives ids, free space and
per-object ground truth from those pixels, so visibility, occlusion and frame cuts follow the
geometry. Real renders are tested separately on the session's tiny benchmark.
"""

from __future__ import annotations

import cv2
import numpy as np

from robostress.questions.item import Item
from robostress.render.camera import project
from robostress.render.frame import Frame, FrameArrays, ObjectGT
from robostress.scene.objects import world_extent
from robostress.scene.plan import (
    Camera,
    Gripper,
    Light,
    Material,
    Room,
    SceneObject,
    ScenePlan,
    Support,
    entity_ids,
)
from robostress.scene.sample import PALETTE
from robostress.stress.base import CLEAN, StressRecord

TABLE_Z = 0.75


def mat(colour: str, **kw: object) -> Material:
    """A palette material."""
    return Material(color_name=colour, rgb=PALETTE[colour], **kw)  # type: ignore[arg-type]


def obj(oid: str, category: str, colour: str, x: float, y: float, *, on: str = "sup00", z: float = TABLE_Z,
        size: tuple[float, float, float] = (0.08, 0.08, 0.08), **kw: object) -> SceneObject:
    """An object at (x, y) resting on ``on`` with its base at height ``z``."""
    return SceneObject(id=oid, category=category, material=mat(colour), position=(x, y, z), size=size,
                       support_id=on, **kw)  # type: ignore[arg-type]


def handbuilt(camera: Camera | None = None, gripper: bool = True) -> ScenePlan:
    """A fixed table scene: two targets, a green block stacked on a blue book, a gripper.

    Seen from the default camera (in front of the table, looking along +y), world x grows to the
    image right: left to right the red mug (x=-0.25), the yellow can (0.02), the blue book (0.2).
    """
    objects = (
        obj("obj00", "mug", "red", -0.25, -0.05, size=(0.115, 0.085, 0.10), role="target"),
        obj("obj01", "book", "blue", 0.20, 0.10, size=(0.15, 0.21, 0.03)),
        obj("obj02", "block", "green", 0.20, 0.10, on="obj01", z=TABLE_Z + 0.03, size=(0.055, 0.055, 0.055)),
        obj("obj03", "can", "yellow", 0.02, -0.15, size=(0.066, 0.066, 0.12), role="target"),
        obj("obj04", "bowl", "purple", -0.05, 0.22, size=(0.16, 0.16, 0.065)),
        obj("obj05", "plate", "orange", 0.32, -0.12, size=(0.22, 0.22, 0.022)),
    )
    return ScenePlan(
        scene_id="handbuilt-0-0000", family="tabletop", seed=0,
        room=Room(floor=Material(color_name="slate", rgb=(0.12, 0.13, 0.15))),
        supports=(Support(id="sup00", kind="table", center=(0.0, 0.0, TABLE_Z), size=(1.2, 0.8),
                          material=Material(color_name="oak", rgb=(0.4, 0.25, 0.13))),),
        objects=objects,
        lights=(Light(id="key", kind="area", position=(0.3, -0.3, 2.0), intensity=10.0),),
        camera=camera or Camera(position=(0.0, -0.9, 1.35), look_at=(0.0, 0.05, TABLE_Z), fov_deg=60.0),
        gripper=Gripper(position=(0.02, -0.1, TABLE_Z + 0.2)) if gripper else None,
        targets=("obj00", "obj03"),
    )


def _box(plan: ScenePlan, pts: np.ndarray, w: int, h: int) -> tuple[int, int, int, int] | None:
    uv, z = project(plan.camera, pts, w, h)
    if (z <= 0).any():
        return None
    (x0, y0), (x1, y1) = np.floor(uv.min(0)).astype(int), np.ceil(uv.max(0)).astype(int)
    return int(x0), int(y0), int(x1), int(y1)


def _cylinder_corners(o: SceneObject) -> np.ndarray:
    (cx, cy), r, z0, z1 = world_extent(o)
    return np.array([[cx + dx * r, cy + dy * r, z] for dx in (-1, 1) for dy in (-1, 1) for z in (z0, z1)])


def fake_render(plan: ScenePlan, stress: StressRecord = CLEAN, size: tuple[int, int] = (160, 120),
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
    order = sorted(plan.objects, key=lambda o: -float(np.linalg.norm(np.asarray(o.position) - cam)))
    for o in order:
        b = _box(plan, _cylinder_corners(o), w, h)
        if b is None:
            amodal[o.id] = (0, 0)
            continue
        x0, y0, x1, y1 = b
        cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        inside = max(0, cx1 - cx0) * max(0, cy1 - cy0)
        amodal[o.id] = (inside, (x1 - x0) * (y1 - y0))
        free[max(y0 - 1, 0):max(y1 + 1, 0), max(x0 - 1, 0):max(x1 + 1, 0)] = 0
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


def sampled_clean_items(seed: int, num_scenes: int, families: tuple[str, ...] = ("tabletop", "kitchen_shelf")
                        ) -> list[Item]:
    """Clean-twin items of ``num_scenes`` sampled scenes per family, each scene at its ordinal
    (as a benchmark build numbers them), rendered by ``fake_render``."""
    from robostress.questions import generate_items
    from robostress.scene.sample import sample_scene

    out: list[Item] = []
    for family in families:
        for i in range(num_scenes):
            plan = sample_scene(family, seed, i)
            frame, arrays = fake_render(plan)
            out += generate_items(plan, frame, [(plan, frame, arrays)], seed, ordinal=i)[0]
    return out
