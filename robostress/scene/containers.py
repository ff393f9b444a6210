"""Objects inside containers: where a small object's bottom comes to rest inside a bowl, basket,
ramekin, frying pan or open box, and what of it a camera sees over the container's rim.

The inner floor is measured from the container's own mesh, not guessed: a *height field* of its
upper surface (vertical rays cast down onto every ``CELL`` of its footprint, the highest hit kept;
no hit: nothing to rest on) is max-filtered with the object's footprint rectangle, so each place
gives the height where the footprint first touches the container (the floor of a flat-bottomed
box, the sloping inner wall of a bowl where it has narrowed to the footprint's size). The object
goes where that height is lowest, nearest the opening's centre on ties; it counts as *inside*
only if that height is in the lower ``FLOOR_MAX_SHARE`` of the container (else it would rest on
the rim, or the container is closed). A contained object keeps the stack relation: its
``support_id`` is the container, its base sits on the measured floor, below the container's top
(``inside`` tells the two relations apart by that height).

What the camera sees: a point of the contained object is hidden by the container's front wall
when it projects below the front rim (the point of the opening's rim nearest the camera, at the
rim's measured height). The box rasteriser and the sampler's clean-view checks both use that rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from robostress.scene.assets import asset_catalog, category_info, extra_catalog, load_asset
from robostress.scene.camera import project
from robostress.scene.catalogue import catalogue_object
from robostress.scene.objects import get_category, object_mesh, world_extent
from robostress.scene.plan import Camera, SceneObject

CELL = 0.003  # metres: height-field resolution (natural asset size)
FLOOR_MAX_SHARE = 0.5  # an object is inside if its base rests in the lower half of the container
INSIDE_BELOW_TOP = 0.75  # relation test: a base below this share of the support's height is inside it
CLEARANCE = 0.003  # metres kept between the footprint and the container's walls
RIM_REACH = 1.3  # the rim: the highest surface within this many opening radii of its centre


@dataclass(frozen=True)
class _Field:
    """Height field of a container's upper surface in its object frame (natural size)."""

    heights: np.ndarray  # (ny, nx) float32, +inf where no surface (nothing to rest on)
    x0: float  # object-frame x of column 0's centre
    y0: float
    opening: tuple[float, float]  # centre (x, y) of the low cells (the opening)
    radius: float  # radius of the disc with the opening's area
    height: float  # the container's height
    rim: float  # height of the rim around the opening (a pan's handle may rise above it)


def _surface_heights(v: np.ndarray, f: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Highest z where a vertical line through each (px, py) meets the triangles (-inf: none)."""
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    den = (b[:, 1] - c[:, 1]) * (a[:, 0] - c[:, 0]) + (c[:, 0] - b[:, 0]) * (a[:, 1] - c[:, 1])
    ok = np.abs(den) > 1e-12
    a, b, c, den = a[ok], b[ok], c[ok], den[ok]
    lo, hi = np.minimum(np.minimum(a, b), c)[:, :2], np.maximum(np.maximum(a, b), c)[:, :2]
    out = np.full(len(px), -np.inf)
    for y in np.unique(py):  # one row of the grid at a time, against the triangles that span it
        row = np.nonzero(py == y)[0]
        t = (lo[:, 1] <= y) & (hi[:, 1] >= y)
        if not t.any():
            continue
        ta, tb, tc, td, tlo, thi = a[t], b[t], c[t], den[t], lo[t], hi[t]
        x = px[row, None]
        near = (x >= tlo[:, 0]) & (x <= thi[:, 0])
        l1 = ((tb[:, 1] - tc[:, 1]) * (x - tc[:, 0]) + (tc[:, 0] - tb[:, 0]) * (y - tc[:, 1])) / td
        l2 = ((tc[:, 1] - ta[:, 1]) * (x - tc[:, 0]) + (ta[:, 0] - tc[:, 0]) * (y - tc[:, 1])) / td
        l3 = 1 - l1 - l2
        hit = near & (l1 >= -1e-9) & (l2 >= -1e-9) & (l3 >= -1e-9)
        out[row] = np.where(hit, l1 * ta[:, 2] + l2 * tb[:, 2] + l3 * tc[:, 2], -np.inf).max(1)
    return out


@lru_cache(maxsize=64)
def _field(category: str, asset: str | None, natural: tuple[float, float, float]) -> _Field:
    m = object_mesh(category, natural, asset=asset)
    v, f = m.vertices.astype(np.float64), m.faces.astype(np.int64)
    lo, hi = v[:, :2].min(0), v[:, :2].max(0)
    nx, ny = (np.ceil((hi - lo) / CELL).astype(int) + 1)
    xs, ys = lo[0] + CELL * np.arange(nx), lo[1] + CELL * np.arange(ny)
    gx, gy = np.meshgrid(xs, ys)
    h = _surface_heights(v, f, gx.ravel(), gy.ravel()).reshape(ny, nx)
    h[~np.isfinite(h)] = np.inf  # no surface: the object would hang in the air
    height = float(v[:, 2].max())
    low = h <= FLOOR_MAX_SHARE * height
    if not low.any():
        return _Field(h.astype(np.float32), float(xs[0]), float(ys[0]), (0.0, 0.0), 0.0, height, height)
    opening = (float(gx[low].mean()), float(gy[low].mean()))
    radius = math.sqrt(float(low.sum()) * CELL * CELL / math.pi)
    ring = (np.hypot(gx - opening[0], gy - opening[1]) <= RIM_REACH * radius) & np.isfinite(h)
    return _Field(h.astype(np.float32), float(xs[0]), float(ys[0]), opening, radius, height, float(h[ring].max()))


def _natural(o: SceneObject) -> tuple[tuple[float, float, float], float]:
    """The natural size of an object's mesh and the factor its size scales it by."""
    if o.asset is None:
        nat = get_category(o.category).nominal_size
    else:
        nat = load_asset(o.asset).size
    return tuple(float(x) for x in nat), float(o.size[2] / nat[2])  # type: ignore[return-value]


def _rot(deg: float, x: float, y: float) -> tuple[float, float]:
    a = math.radians(deg)
    return math.cos(a) * x - math.sin(a) * y, math.sin(a) * x + math.cos(a) * y


def fit_inside(container: SceneObject, item: SceneObject) -> SceneObject | None:
    """``item`` placed inside ``container`` (support, position on the measured floor, yaw), or
    None if its footprint fits no opening of the container (or the container is tipped)."""
    if container.tipped or item.tipped:
        return None
    nat, k = _natural(container)
    fld = _field(container.category, container.asset, nat)
    best: tuple[float, float, float, float, float] | None = None  # floor, distance to the opening, x, y, turn
    for turn in (0.0, 90.0):
        sx, sy = (item.size[0], item.size[1]) if turn == 0.0 else (item.size[1], item.size[0])
        kx = int(math.ceil((sx / k + 2 * CLEARANCE) / CELL)) | 1  # odd kernels: centred on a cell
        ky = int(math.ceil((sy / k + 2 * CLEARANCE) / CELL)) | 1
        if kx > fld.heights.shape[1] or ky > fld.heights.shape[0]:
            continue
        lift = cv2.dilate(fld.heights, np.ones((ky, kx), np.uint8), borderType=cv2.BORDER_CONSTANT,
                          borderValue=float("inf"))
        low = float(lift.min())
        if not low <= FLOOR_MAX_SHARE * fld.height:
            continue
        ys, xs = np.nonzero(lift <= low + 0.5 * CELL)
        px, py = fld.x0 + CELL * xs, fld.y0 + CELL * ys
        d = np.hypot(px - fld.opening[0], py - fld.opening[1])
        j = int(np.argmin(d))
        cand = (low, float(d[j]), float(px[j]), float(py[j]), turn)
        if best is None or cand[:2] < best[:2]:
            best = cand
    if best is None:
        return None
    floor, _, x, y, turn = best
    dx, dy = _rot(container.yaw_deg, x * k, y * k)
    pos = (container.position[0] + dx, container.position[1] + dy, container.position[2] + floor * k)
    return item.model_copy(update={"position": pos, "support_id": container.id,
                                   "yaw_deg": (container.yaw_deg + turn) % 360})


def is_container(o: SceneObject) -> bool:
    """Whether an object is of a kind other objects can be put in (the asset catalog says)."""
    if o.asset is None:
        return False  # the procedural library's bowls are closed lathe shells

    return category_info(o.category).container


@lru_cache(maxsize=64)
def can_hold(category: str) -> bool:
    """Whether some asset of a real container category holds the catalogue's smallest object
    (LIBERO's bowls and ramekins are as small as the objects: they hold none; the storage box is
    closed). A kind that none of its catalogue objects lets hold anything is not offered from the
    catalogue as where something rests (a scene's own bowl, a little smaller or its content a
    little smaller than the catalogue's, may hold something and be offered)."""
    cat = asset_catalog()
    if category not in cat.categories:  # (issue 24) a category of the extra catalog: its own assets
        return category_info(category).container and _extra_can_hold(category)
    if not cat.categories[category].container:
        return False
    things = [a for a, s in cat.assets.items() if not cat.categories[s.category].container]
    probe = catalogue_object(min(things, key=lambda a: (load_asset(a).size[0] * load_asset(a).size[1], a)))
    return any(fit_inside(catalogue_object(a), probe) is not None
               for a, s in sorted(cat.assets.items()) if s.category == category)


def _extra_can_hold(category: str) -> bool:
    """``can_hold`` for a category of the extra catalog: one of its assets holds the object
    catalog's smallest object."""
    cat = asset_catalog()
    things = [a for a, s in cat.assets.items() if not cat.categories[s.category].container]
    probe = catalogue_object(min(things, key=lambda a: (load_asset(a).size[0] * load_asset(a).size[1], a)))
    return any(fit_inside(catalogue_object(a), probe) is not None
               for a, s in sorted(extra_catalog().assets.items()) if s.category == category)


def inside(item: SceneObject, support: SceneObject) -> bool:
    """Whether ``item`` (resting on the object ``support``) is inside it rather than on its top."""
    _, _, z0, z1 = world_extent(support)
    return item.support_id == support.id and item.position[2] < z0 + INSIDE_BELOW_TOP * (z1 - z0)


def front_rim(container: SceneObject, eye: tuple[float, float, float]) -> np.ndarray:
    """The world point of the container's opening rim nearest the camera, at the rim's height."""
    nat, k = _natural(container)
    fld = _field(container.category, container.asset, nat)
    dx, dy = _rot(container.yaw_deg, fld.opening[0] * k, fld.opening[1] * k)
    cx, cy = container.position[0] + dx, container.position[1] + dy
    to = np.array([eye[0] - cx, eye[1] - cy])
    to /= max(float(np.linalg.norm(to)), 1e-9)
    r = fld.radius * k
    return np.array([cx + r * to[0], cy + r * to[1], container.position[2] + fld.rim * k])


def below_rim(cam: Camera, points: np.ndarray, container: SceneObject) -> np.ndarray:
    """Which of ``points`` (of an object inside ``container``) its front wall hides from ``cam``:
    those that project below (image rows grow downward) the front rim."""
    pts = np.vstack([np.atleast_2d(points), front_rim(container, cam.position)])
    uv, _ = project(cam, pts, 1000, 1000)
    return uv[:-1, 1] > uv[-1, 1]
