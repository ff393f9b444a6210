"""What the camera must see of a clean scene, and rays that tell whether it does."""

from __future__ import annotations

from collections import Counter

import numpy as np

from robostress.scene.camera import project
from robostress.scene.collision import object_box
from robostress.scene.containers import below_rim, inside
from robostress.scene.objects import world_extent
from robostress.scene.plan import Camera, SceneObject


def must_see(objects: list[SceneObject], targets: list[str]) -> list[str]:
    """Objects a clean scene must show: its targets, the objects of a stack (what rests on what)
    and every instance of a category placed several times (how many there are). Questions ask
    about what the scene was built to hold; a layout that hides it would turn the designed answer
    into whatever happens to be visible (a hidden stack top makes 'the table' the answer). An
    object inside a container and its container count as a stack.
    Applied to real-asset families (the lab), whose questions are drawn over stacks and multiples."""
    by_cat = Counter(o.category for o in objects)
    ids = {o.id for o in objects}
    stack = {i for o in objects if o.support_id in ids for i in (o.id, o.support_id)}
    return [o.id for o in objects if o.id in targets or o.id in stack or by_cat[o.category] > 1]


def targets_in_view(cam: Camera, objs: list[SceneObject], targets: list[str]) -> bool:

    pts = np.array([[*o.position[:2], o.position[2] + o.size[2] / 2] for o in objs if o.id in targets])
    uv, z = project(cam, pts, 100, 100)
    return bool((z > 0).all() and (np.abs(uv - 50) < 35).all())


def _segment_hits_box(p0: np.ndarray, p1: np.ndarray, centre: tuple[float, float, float],
                      size: tuple[float, float, float]) -> bool:
    """Whether the segment p0-p1 passes through an axis-aligned box (slab test)."""
    lo, hi = np.asarray(centre) - np.asarray(size) / 2, np.asarray(centre) + np.asarray(size) / 2
    d = p1 - p0
    t0, t1 = 0.0, 1.0
    for k in range(3):
        if abs(d[k]) < 1e-12:
            if not lo[k] <= p0[k] <= hi[k]:
                return False
            continue
        a, b = (lo[k] - p0[k]) / d[k], (hi[k] - p0[k]) / d[k]
        t0, t1 = max(t0, min(a, b)), min(t1, max(a, b))
        if t0 > t1:
            return False
    return True


def targets_hidden(cam: Camera, objs: list[SceneObject], targets: list[str]) -> bool:
    """Whether another object's box stands between the camera and a target's centre and top
    (a clean target hidden behind a basket has nowhere to go under occlusion or any stress).
    A target inside a container is hidden by its container only below the front rim."""
    eye = np.asarray(cam.position)
    by_id = {o.id: o for o in objs}
    for t in (o for o in objs if o.id in targets):
        (cx, cy), _, z0, z1 = world_extent(t)
        points = [np.array([cx, cy, (z0 + z1) / 2]), np.array([cx, cy, z1])]
        box = by_id.get(t.support_id)
        box = box if box is not None and inside(t, box) else None
        rim = below_rim(cam, np.array(points), box) if box is not None else [False] * len(points)
        others = [object_box(o) for o in objs if o.id != t.id and o.support_id != t.id and o is not box]
        if all(r or any(_segment_hits_box(eye, p, *b) for b in others) for p, r in zip(points, rim, strict=True)):
            return True
    return False
