"""Ground-truth passes derived from a render: instance ids, amodal masks, free space, per-object GT."""

from __future__ import annotations

import cv2
import numpy as np

from robostress.core.colour import lab
from robostress.render.frame import ObjectGT
from robostress.scene.camera import camera_axes, project
from robostress.scene.objects import world_extent, world_mesh
from robostress.scene.plan import SceneObject, ScenePlan

AMODAL_PAD = 1  # canvas extends this many frame widths on each side (3x3 frames in all)
SUPERSAMPLE = 4  # rasterise at 4x and keep pixels at least half covered (~ "centre inside")
SUBPIXEL_BITS = 4
FREE_MARGIN = 0.03  # metres kept clear of object footprints and support edges


def amodal_mask(plan: ScenePlan, obj: SceneObject, width: int, height: int) -> tuple[np.ndarray, int]:
    """Silhouette of ``obj`` alone: (in-frame bool mask, pixel count on an extended canvas).

    It depends only on the object and the camera, which most stressed frames share with their
    clean twin (material and lighting stresses): the last ``AMODAL_CACHE_SIZE`` are kept (it was
    0.2 s a lab frame).
    """
    key = (obj.model_dump_json(), plan.camera.model_dump_json(), int(width), int(height))
    hit = _AMODAL_CACHE.pop(key, None)
    if hit is None:
        hit = _amodal_mask(plan, obj, width, height)
        hit[0].flags.writeable = False
    _AMODAL_CACHE[key] = hit  # most recently used last
    while len(_AMODAL_CACHE) > AMODAL_CACHE_SIZE:
        _AMODAL_CACHE.pop(next(iter(_AMODAL_CACHE)))
    return hit[0].copy(), hit[1]


AMODAL_CACHE_SIZE = 512
_AMODAL_CACHE: dict[tuple[str, str, int, int], tuple[np.ndarray, int]] = {}


def _amodal_mask(plan: ScenePlan, obj: SceneObject, width: int, height: int) -> tuple[np.ndarray, int]:
    """``amodal_mask`` without the cache.

    The mesh is rasterised with OpenCV on a canvas 3x the frame in each direction with the same
    pixel scale, so the part of the object outside the frame is counted too. Rasterising at
    SUPERSAMPLE x and keeping pixels at least half covered matches the ray-traced mask's
    one-ray-per-pixel-centre convention to within a fraction of a pixel along edges.
    """
    m = world_mesh(obj)
    uv, z = project(plan.camera, m.vertices, width, height)
    o = camera_axes(plan.camera)[0]
    tri = m.faces.astype(np.int64)
    v = m.vertices.astype(np.float64)
    normals = np.cross(v[tri[:, 1]] - v[tri[:, 0]], v[tri[:, 2]] - v[tri[:, 0]])
    front = np.einsum("ij,ij->i", normals, v[tri[:, 0]] - o) < 0
    in_front = (z[tri] > 0.01).all(axis=1)
    tri = tri[front & in_front]
    ss, n = SUPERSAMPLE, 2 * AMODAL_PAD + 1
    canvas = np.zeros((n * height, n * width), bool)
    off = np.array([AMODAL_PAD * width, AMODAL_PAD * height], np.float64)
    fine_uv = (uv[tri] + off) * ss  # fine-canvas coordinates of every front-facing triangle
    if len(fine_uv):
        # Rasterise only the object's bounding box (aligned to whole coarse pixels).
        lo = np.floor(np.clip(fine_uv.reshape(-1, 2).min(0), 0, None) / ss).astype(int)
        hi = np.ceil(np.minimum(fine_uv.reshape(-1, 2).max(0), [n * width * ss, n * height * ss]) / ss).astype(int)
        hi = np.maximum(hi, lo + 1)
        fine = np.zeros(((hi[1] - lo[1]) * ss, (hi[0] - lo[0]) * ss), np.uint8)
        pts = np.round((fine_uv - lo * ss - 0.5) * (1 << SUBPIXEL_BITS))
        lim = float(1 << 26)
        for t in np.clip(pts, -lim, lim).astype(np.int32):
            cv2.fillConvexPoly(fine, t, 1, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)
        cover = fine.reshape(hi[1] - lo[1], ss, hi[0] - lo[0], ss).sum(axis=(1, 3))
        canvas[lo[1]:hi[1], lo[0]:hi[0]] = cover * 2 >= ss * ss
    inside = canvas[AMODAL_PAD * height:(AMODAL_PAD + 1) * height,
                    AMODAL_PAD * width:(AMODAL_PAD + 1) * width]
    return inside.copy(), int(canvas.sum())


def resting_on(plan: ScenePlan, support_id: str) -> list[SceneObject]:
    """Objects whose support chain ends at ``support_id`` (directly or on a stack)."""
    by_id = {o.id: o for o in plan.objects}
    out = []
    for o in plan.objects:
        cur = o
        for _ in range(len(plan.objects) + 1):
            if cur.support_id not in by_id:
                break
            cur = by_id[cur.support_id]
        if cur.support_id == support_id:
            out.append(o)
    return out


def free_space(plan: ScenePlan, ids: np.ndarray, position: np.ndarray, normal: np.ndarray,
               number: dict[str, int]) -> np.ndarray:
    """Pixels of each support's top face where an object could be placed (value = support number)."""
    free = np.zeros(ids.shape, np.uint16)
    for s in plan.supports:
        k = number[s.id]
        px, py, pz = position[..., 0], position[..., 1], position[..., 2]
        ok = (ids == k) & (normal[..., 2] > 0.9) & (np.abs(pz - s.center[2]) < 0.005)
        ok &= np.abs(px - s.center[0]) < s.size[0] / 2 - FREE_MARGIN
        ok &= np.abs(py - s.center[1]) < s.size[1] / 2 - FREE_MARGIN
        for o in resting_on(plan, s.id):
            (cx, cy), r, _, _ = world_extent(o)
            ok &= (px - cx) ** 2 + (py - cy) ** 2 > (r + FREE_MARGIN) ** 2
        free[ok] = k
    return free


RING_PX = 3  # width of the surround a referent is compared with


def photometric_contrast(rgb: np.ndarray, visible: np.ndarray, lab_img: np.ndarray | None = None) -> float | None:
    """Mean CIELAB delta E of an object's visible pixels to the mean colour of its surround.

    Geometry says whether an object is in the line of sight; this says whether it can be told
    apart in the image (a white box in a blown-out frame, a black mug in the dark: ~0).
    ``lab_img``: ``lab(rgb)`` when the caller has it (one conversion per frame, not per object).
    """
    if not visible.any():
        return None

    k = np.ones((2 * RING_PX + 1, 2 * RING_PX + 1), np.uint8)
    ring = cv2.dilate(visible.astype(np.uint8), k).astype(bool) & ~visible
    if not ring.any():
        return None
    L = lab(rgb) if lab_img is None else lab_img
    return round(float(np.linalg.norm(L[visible] - L[ring].mean(0), axis=-1).mean()), 3)


def object_gt(obj_id: str, visible: np.ndarray, amodal_in: np.ndarray, amodal_total: int,
              rgb: np.ndarray | None = None, lab_img: np.ndarray | None = None) -> ObjectGT:
    """Per-object visibility, box and centroid from the modal and amodal masks."""
    amodal_in = amodal_in | visible  # rasteriser and ray tracer differ by a fraction of a pixel
    vis = int(visible.sum())
    am = int(amodal_in.sum())
    total = max(amodal_total, am)
    bbox = centroid = None
    if vis:
        ys, xs = np.nonzero(visible)
        bbox = (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max()))
        centroid = (float(xs.mean() + 0.5), float(ys.mean() + 0.5))
    return ObjectGT(id=obj_id, visible_px=vis, amodal_px=am, amodal_total_px=total,
                    visible_fraction=round(vis / am, 6) if am else 0.0,
                    out_of_frame_fraction=round(1.0 - am / total, 6) if total else 1.0,
                    bbox=bbox, centroid=centroid,
                    contrast=photometric_contrast(rgb, visible, lab_img) if rgb is not None else None)
