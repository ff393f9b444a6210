"""Where a named object could be put down: the exact valid region of a placement question.

A placement question names a support, a reference object X (and, for 'between', a second one
Z), a relation, and the object Y to be put down. A pixel is in the valid region when the point
of the support's top plane it shows (its ray cut with the plane ``z = support top``):

* is seen: the pixel shows free surface of that support (the frame's free-space mask);
* has room: Y's footprint disc (radius from ``world_extent``) centred there lies on the support
  and clears every other object's footprint disc on it by ``MARGIN`` (Y's own place is free:
  Y is the object being moved);
* is within the arm's reach: at most ``REACH`` metres (horizontally) from the base of the arm,
  when the scene has one (a Panda reaches about 0.85 m);
* satisfies the relation: 'just to the left / right of X in the image', 'just in front of X
  (closer to the camera)', 'just behind X (farther from the camera)': the gap between Y's disc
  and X's is at most ``NEAR`` and the direction from X is within 45 degrees of the image's left
  (right) on the table, or of the horizontal direction to (away from) the camera; 'between X and
  Z': Y's disc centred within ``BETWEEN_HALF_WIDTH`` of the line from X to Z, strictly between
  their footprints.

Regions travel in ``Item.truth['region']`` as a run-length code (``encode``/``decode``): row-major
runs alternating outside/inside, starting outside, with the frame's (height, width).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from robostress.scene.camera import camera_axes
from robostress.scene.objects import world_extent
from robostress.scene.plan import Camera, SceneObject, ScenePlan, Support

MARGIN = 0.01  # metres of clearance between Y's footprint and any other object's
NEAR = 0.08  # metres: 'just' beside X is a gap of at most this between the footprints
BETWEEN_HALF_WIDTH = 0.04  # metres from the line X-Z
REACH = 0.8  # metres from the base of the arm (horizontally)
RELATIONS = ("left", "right", "front", "behind", "between")


def encode(mask: np.ndarray) -> dict[str, Any]:
    """Run-length code of a boolean mask (row-major, first run outside)."""
    flat = np.asarray(mask, bool).ravel()
    change = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts = [0, *counts]
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": [int(c) for c in counts]}


def decode(code: dict[str, Any]) -> np.ndarray:
    """The boolean mask of a run-length code from ``encode``."""
    h, w = (int(v) for v in code["size"])
    counts = [int(c) for c in code["counts"]]
    if sum(counts) != h * w:
        raise ValueError(f"region runs cover {sum(counts)} pixels, not {h}x{w}")
    values = np.arange(len(counts)) % 2 == 1
    return np.repeat(values, counts).reshape(h, w)


def plane_points(cam: Camera, width: int, height: int, z: float) -> tuple[np.ndarray, np.ndarray]:
    """World (x, y) of the plane ``z`` seen at each pixel centre (H, W, 2), and where it is seen
    in front of the camera (H, W)."""
    o, left, up, d = camera_axes(cam)
    tan_x = math.tan(math.radians(cam.fov_deg) / 2)
    tan_y = tan_x * height / width
    u = (np.arange(width) + 0.5) / width
    v = (np.arange(height) + 0.5) / height
    xc = (1.0 - 2.0 * u)[None, :] * tan_x  # inverse of robostress.scene.camera.project
    yc = (1.0 - 2.0 * v)[:, None] * tan_y
    ray = xc[..., None] * left + yc[..., None] * up + d  # (H, W, 3)
    dz = ray[..., 2]
    t = np.where(np.abs(dz) > 1e-12, (z - o[2]) / np.where(np.abs(dz) > 1e-12, dz, 1.0), -1.0)
    pts = o[None, None, :2] + t[..., None] * ray[..., :2]
    return pts, t > 0


def _horizontal(v: np.ndarray) -> np.ndarray:
    h = np.array([v[0], v[1]], float)
    n = float(np.linalg.norm(h))
    return h / n if n > 1e-9 else h


def _disc(o: SceneObject) -> tuple[np.ndarray, float]:
    (cx, cy), r, _, _ = world_extent(o)
    return np.array([cx, cy]), r


def valid_region(plan: ScenePlan, support: Support, free: np.ndarray, relation: str, y_obj: SceneObject,
                 refs: Sequence[SceneObject], obstacles: Sequence[SceneObject]) -> np.ndarray:
    """Boolean (H, W) region of the module docstring; ``free`` is the support's visible free
    surface, ``refs`` X (and Z for 'between'), ``obstacles`` every object on the support."""
    h, w = free.shape
    pts, ahead = plane_points(plan.camera, w, h, float(support.center[2]))
    _, ry = _disc(y_obj)
    ok = free & ahead
    sx, sy = support.center[0], support.center[1]
    ok &= (np.abs(pts[..., 0] - sx) <= support.size[0] / 2 - ry) & (np.abs(pts[..., 1] - sy) <= support.size[1] / 2 - ry)
    for o in obstacles:
        if o.id == y_obj.id:
            continue
        c, r = _disc(o)
        ok &= np.hypot(pts[..., 0] - c[0], pts[..., 1] - c[1]) >= r + ry + MARGIN
    if plan.robot is not None:
        b = plan.robot.position
        ok &= np.hypot(pts[..., 0] - b[0], pts[..., 1] - b[1]) <= REACH
    cx, rx = _disc(refs[0])
    rel = pts - cx
    dist = np.hypot(rel[..., 0], rel[..., 1])
    if relation == "between":
        cz, rz = _disc(refs[1])
        axis = cz - cx
        length = float(np.linalg.norm(axis))
        if length < 1e-9:
            return np.zeros_like(ok)
        along = (rel @ axis) / length
        across = np.abs(rel[..., 0] * axis[1] - rel[..., 1] * axis[0]) / length
        return ok & (across <= BETWEEN_HALF_WIDTH) & (along > 0) & (along < length)
    _, left, _, fwd = camera_axes(plan.camera)
    direction = {"left": _horizontal(left), "right": -_horizontal(left),
                 "front": -_horizontal(fwd), "behind": _horizontal(fwd)}[relation]
    cos = (rel @ direction) / np.maximum(dist, 1e-9)
    return ok & (dist <= rx + ry + MARGIN + NEAR) & (cos >= math.cos(math.radians(45)))
