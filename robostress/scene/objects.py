"""Procedural object library: closed lathe / box meshes built in code (no downloaded assets).

Object frame: base centre at the origin, z up, axis-aligned extents equal to the requested size.
Faces are counter-clockwise seen from outside (outward normals). uv: u = angle or face x,
v = height or face y, both in [0, 1] (checker and stripe textures use them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from robostress.errors import ConfigError
from robostress.scene.assets import asset_catalog, extra_catalog, load_asset
from robostress.scene.plan import Deformation, Gripper, SceneObject, Vec3

SEGMENTS = 40  # lathe resolution: smooth silhouettes at 512 px
GRID = 2.0 ** -20  # m (~1 um): every mesh vertex is a multiple of it, exactly a float32


def snap(v: np.ndarray) -> np.ndarray:
    """Vertices on ``GRID``: numpy's SIMD sin/cos (SVML on AVX-512 CPUs, other loops elsewhere)
    and BLAS kernels differ in the last bits between machines; rounding to a power-of-two grid
    far above those bits (and exact in float32 within 16 m of the origin) makes every machine pass the
    renderer, and the collision tests, the same vertices."""
    return np.round(np.asarray(v, np.float64) / GRID) * GRID


@dataclass(frozen=True)
class Mesh:
    """A triangle mesh."""

    vertices: np.ndarray  # (N, 3) float32
    faces: np.ndarray  # (M, 3) uint32, counter-clockwise from outside
    uv: np.ndarray  # (N, 2) float32 in [0, 1]


@dataclass(frozen=True)
class CategorySpec:
    """A category of the library."""

    name: str
    nominal_size: Vec3  # x, y, z extents in metres
    flat_top: bool  # something can be stacked on it
    can_tip: bool  # can lie on its side
    plural: str


CATEGORIES: dict[str, CategorySpec] = {c.name: c for c in (
    CategorySpec("mug", (0.115, 0.085, 0.10), False, True, "mugs"),
    CategorySpec("bowl", (0.16, 0.16, 0.065), False, False, "bowls"),
    CategorySpec("plate", (0.22, 0.22, 0.022), True, False, "plates"),
    CategorySpec("bottle", (0.07, 0.07, 0.24), False, True, "bottles"),
    CategorySpec("can", (0.066, 0.066, 0.12), True, True, "cans"),
    CategorySpec("box", (0.14, 0.10, 0.09), True, False, "boxes"),
    CategorySpec("ball", (0.08, 0.08, 0.08), False, False, "balls"),
    CategorySpec("block", (0.055, 0.055, 0.055), True, False, "blocks"),
    CategorySpec("cone", (0.09, 0.09, 0.11), False, True, "cones"),
    CategorySpec("book", (0.15, 0.21, 0.03), True, False, "books"),
    CategorySpec("pyramid", (0.09, 0.09, 0.08), False, False, "pyramids"),
)}


def get_category(name: str) -> CategorySpec:
    """The spec of ``name`` (procedural or real-asset category); ConfigError listing them if unknown."""
    if name in CATEGORIES:
        return CATEGORIES[name]

    cat = asset_catalog()
    if name in cat.categories:
        c = cat.categories[name]
        sizes = np.array([_asset_size(a) for a, s in cat.assets.items() if s.category == name] or [(0.1,) * 3])
        return CategorySpec(name, tuple(float(x) for x in sizes.mean(0)), c.flat_top, c.can_tip, c.plural)  # type: ignore[arg-type]
    extra = extra_catalog()  # (issue 24) categories only the extra catalog has: sized over its assets
    if name in extra.categories:
        c = extra.categories[name]
        sizes = np.array([_asset_size(a) for a, s in extra.assets.items() if s.category == name] or [(0.1,) * 3])
        return CategorySpec(name, tuple(float(x) for x in sizes.mean(0)), c.flat_top, c.can_tip, c.plural)  # type: ignore[arg-type]
    raise ConfigError(f"unknown object category {name!r}; choose one of: "
                      f"{', '.join(all_categories())}") from None


def _asset_size(asset_id: str) -> Vec3:
    return load_asset(asset_id).size


def all_categories() -> list[str]:
    """Every category name: the procedural library's, then the real assets' (answer options)."""
    return list(CATEGORIES) + [c for c in asset_catalog().categories if c not in CATEGORIES]


def lathe(profile: list[tuple[float, float]], segments: int = SEGMENTS) -> Mesh:
    """Revolve a (radius, z) profile about z. Profiles start and end on the axis (closed)."""
    prof = np.asarray(profile, np.float64)
    seg_len = np.r_[0.0, np.cumsum(np.hypot(np.diff(prof[:, 0]), np.diff(prof[:, 1])))]
    v_coord = seg_len / seg_len[-1]
    ang = np.linspace(0.0, 2 * math.pi, segments + 1)
    r, z = prof[:, 0][:, None], prof[:, 1][:, None]
    verts = np.stack([r * np.cos(ang), r * np.sin(ang), np.broadcast_to(z, (len(prof), segments + 1))], -1)
    uv = np.stack(np.broadcast_arrays(ang[None, :] / (2 * math.pi), v_coord[:, None]), -1)
    cols = segments + 1
    faces = []
    for i in range(len(prof) - 1):
        for j in range(segments):
            a, b = i * cols + j, i * cols + j + 1
            c, d = (i + 1) * cols + j + 1, (i + 1) * cols + j
            if prof[i, 0] > 0:  # no zero-area triangles at the poles
                faces.append((a, b, c))
            if prof[i + 1, 0] > 0:
                faces.append((a, c, d))
    return Mesh(verts.reshape(-1, 3).astype(np.float32), np.asarray(faces, np.uint32),
                uv.reshape(-1, 2).astype(np.float32))


def box_mesh(size: Vec3, center: Vec3) -> Mesh:
    """An axis-aligned box with separate vertices per face (flat shading, per-face uv)."""
    s, c = np.asarray(size, np.float64), np.asarray(center, np.float64)
    verts, faces, uvs = [], [], []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            n = np.zeros(3)
            n[axis] = sign
            a = np.zeros(3)
            a[(axis + 1) % 3] = 1.0
            b = np.cross(n, a)
            base = len(verts)
            for i, j in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                verts.append(c + s * (0.5 * n + 0.5 * i * a + 0.5 * j * b))
                uvs.append(((i + 1) / 2, (j + 1) / 2))
            faces += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    return Mesh(np.asarray(verts, np.float32), np.asarray(faces, np.uint32), np.asarray(uvs, np.float32))


def _merge(*meshes: Mesh) -> Mesh:
    off, faces = 0, []
    for m in meshes:
        faces.append(m.faces.astype(np.int64) + off)
        off += len(m.vertices)
    return Mesh(np.concatenate([m.vertices for m in meshes]).astype(np.float32),
                np.concatenate(faces).astype(np.uint32), np.concatenate([m.uv for m in meshes]))


def _handle(radius: float, tube: float, height: float, x0: float) -> Mesh:
    """A half torus on the +x side of a mug, in the x-z plane."""
    n_major, n_minor = 16, 10
    t = np.linspace(-math.pi / 2, math.pi / 2, n_major + 1)
    p = np.linspace(0, 2 * math.pi, n_minor + 1)
    T, P = np.meshgrid(t, p, indexing="ij")
    x = x0 + (radius + tube * np.cos(P)) * np.cos(T)
    z = height + (radius + tube * np.cos(P)) * np.sin(T)
    y = tube * np.sin(P)
    verts = np.stack([x, y, z], -1).reshape(-1, 3)
    cols = n_minor + 1
    faces = []
    for i in range(n_major):
        for j in range(n_minor):
            a, b, c, d = i * cols + j, (i + 1) * cols + j, (i + 1) * cols + j + 1, i * cols + j + 1
            faces += [(a, c, b), (a, d, c)]
    uv = np.stack(np.broadcast_arrays(T / math.pi + 0.5, P / (2 * math.pi)), -1).reshape(-1, 2)
    return Mesh(verts.astype(np.float32), np.asarray(faces, np.uint32), uv.astype(np.float32))


def _nominal(category: str) -> Mesh:
    """The category's mesh at nominal size (before scaling to the requested size)."""
    if category == "mug":
        r, h, w = 0.0425, 0.10, 0.005
        body = lathe([(0, 0), (r, 0), (r, h), (r - w, h), (r - w, 0.008), (0, 0.008)])
        return _merge(body, _handle(0.028, 0.006, 0.052, r - 0.012))
    if category == "bowl":
        return lathe([(0, 0), (0.04, 0), (0.074, 0.05), (0.08, 0.065), (0.074, 0.065),
                      (0.068, 0.052), (0.035, 0.01), (0, 0.01)])
    if category == "plate":
        return lathe([(0, 0), (0.08, 0), (0.11, 0.02), (0.106, 0.022), (0.076, 0.006), (0, 0.006)])
    if category == "bottle":
        return lathe([(0, 0), (0.035, 0), (0.035, 0.15), (0.03, 0.18), (0.013, 0.2),
                      (0.013, 0.232), (0.015, 0.234), (0.015, 0.24), (0, 0.24)])
    if category == "can":
        return lathe([(0, 0), (0.03, 0), (0.033, 0.006), (0.033, 0.114), (0.03, 0.12), (0, 0.12)])
    if category == "ball":
        a = np.linspace(-math.pi / 2, math.pi / 2, 21)[1:-1]
        return lathe([(0.0, 0.0)] + [(0.04 * math.cos(t), 0.04 + 0.04 * math.sin(t)) for t in a] + [(0.0, 0.08)])
    if category == "cone":
        return lathe([(0, 0), (0.045, 0), (0.0005, 0.11), (0, 0.11)])
    if category == "pyramid":
        return lathe([(0, 0), (0.0636, 0), (0.0005, 0.08), (0, 0.08)], segments=4)
    spec = get_category(category)
    return box_mesh(spec.nominal_size, (0.0, 0.0, spec.nominal_size[2] / 2))


def _deform(v: np.ndarray, d: Deformation, size: np.ndarray) -> np.ndarray:
    h = max(float(size[2]), 1e-6)
    z = v[:, 2]
    if d.kind == "twist":
        a = d.amplitude * z / h
        c, s = np.cos(a), np.sin(a)
        return np.stack([c * v[:, 0] - s * v[:, 1], s * v[:, 0] + c * v[:, 1], z], -1)
    if d.kind == "bend" and d.amplitude > 1e-9:
        radius = h / d.amplitude  # the central axis becomes an arc of this radius
        theta = z / radius
        rx = radius - v[:, 0]
        return np.stack([radius - rx * np.cos(theta), v[:, 1], np.maximum(rx * np.sin(theta), 0)], -1)
    if d.kind == "crumple":
        g = np.random.default_rng(d.seed)
        amp = d.amplitude * float(size.min())
        k = g.normal(0, 1, (4, 3)) * (2 * math.pi / float(size.max())) * 1.5
        phase = g.uniform(0, 2 * math.pi, (4, 3))
        disp = np.zeros_like(v)
        for i in range(4):  # elementwise, not ``v @ k``: BLAS kernels sum in a CPU-dependent order
            dot = v[:, 0:1] * k[i][0] + v[:, 1:2] * k[i][1] + v[:, 2:3] * k[i][2]
            disp += np.sin(dot + phase[i]) / 2
        ramp = np.clip(z / (0.25 * h), 0, 1)[:, None]
        out = v + amp * disp * ramp
        out[:, 2] = np.maximum(out[:, 2], 0)
        return out
    return v


NO_DEFORMATION = Deformation()


def object_mesh(category: str, size: Vec3, deformation: Deformation = NO_DEFORMATION,
                asset: str | None = None) -> Mesh:
    """Mesh of ``category`` (or of the real ``asset``) scaled to ``size`` (object frame), then deformed."""
    if asset is not None:
        a = load_asset(asset)
        m = Mesh(a.vertices, a.faces, a.uv)
    else:
        m = _nominal(category)
    v = m.vertices.astype(np.float64)
    lo, hi = v.min(0), v.max(0)
    centre = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    target = np.asarray(size, np.float64)
    v = (v - centre) * (target / np.maximum(hi - lo, 1e-9))
    faces, uv = m.faces, m.uv
    if deformation.kind != "none":  # fine enough to bend: a coarse face would fold and show its back
        v, faces, uv = subdivide(v, faces, uv, DEFORM_MAX_EDGE * float(target.min()))
    v = _deform(v, deformation, target)
    return Mesh(snap(v).astype(np.float32), faces, uv)


DEFORM_MAX_EDGE = 0.15  # of the smallest side: longest mesh edge before a deformation
MAX_SUBDIVIDED_FACES = 400_000


def subdivide(v: np.ndarray, faces: np.ndarray, uv: np.ndarray, max_edge: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split every triangle into four (edge midpoints shared, so the mesh stays closed; UVs
    interpolated) until no edge is longer than ``max_edge``. A twist or bend moves each vertex
    on its own: the long side faces of a box, two triangles from bottom to top, would become
    chords through the twisted solid and turn their backs (black in a one-sided BSDF) to the
    camera."""
    v, f, t = np.asarray(v, np.float64), np.asarray(faces, np.int64), np.asarray(uv, np.float64)
    while len(f) * 4 <= MAX_SUBDIVIDED_FACES:
        e = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
        if float(np.linalg.norm(v[e[:, 0]] - v[e[:, 1]], axis=1).max()) <= max_edge:
            break
        key, inv = np.unique(np.sort(e, axis=1), axis=0, return_inverse=True)
        mid = len(v) + inv.reshape(3, -1)  # per face: index of the midpoint of edge ab, bc, ca
        v = np.concatenate([v, (v[key[:, 0]] + v[key[:, 1]]) / 2])
        t = np.concatenate([t, (t[key[:, 0]] + t[key[:, 1]]) / 2]) if len(t) else t
        a, b, c = f.T
        ab, bc, ca = mid
        f = np.concatenate([np.stack(x, -1) for x in ((a, ab, ca), (ab, b, bc), (ca, bc, c), (ab, bc, ca))])
    return v, f.astype(np.uint32), t.astype(np.float32)


def _yaw(v: np.ndarray, deg: float) -> np.ndarray:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.stack([c * v[:, 0] - s * v[:, 1], s * v[:, 0] + c * v[:, 1], v[:, 2]], -1)


@lru_cache(maxsize=256)
def world_mesh(obj: SceneObject) -> Mesh:
    """The object's mesh in world space (deformed, tipped, yawed, placed); cached, read-only arrays.

    A scene's frames share most objects, and a deformed object's subdivision cost 0.15 s each
    time it was rebuilt (the scene load, the amodal masks and the collision checks of every frame
    of a lab scene asked for it again: 10 % of a build's time)."""
    m = object_mesh(obj.category, obj.size, obj.deformation, obj.asset)
    v = m.vertices.astype(np.float64)
    if obj.tipped:  # lie on the side: height axis along -y, lowest point on the support
        v = np.stack([v[:, 0], -v[:, 2], v[:, 1]], -1)
        lo, hi = v.min(0), v.max(0)
        v = v - np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    v = _yaw(v, obj.yaw_deg) + np.asarray(obj.position, np.float64)
    out = Mesh(snap(v).astype(np.float32), m.faces.copy(), m.uv.copy())
    for a in (out.vertices, out.faces, out.uv):
        a.setflags(write=False)
    return out


@lru_cache(maxsize=8192)
def world_extent(obj: SceneObject) -> tuple[tuple[float, float], float, float, float]:
    """((cx, cy), footprint radius, z_min, z_max) of the placed object in world space (cached)."""
    v = world_mesh(obj).vertices.astype(np.float64)
    cx, cy = float(obj.position[0]), float(obj.position[1])
    r = float(np.sqrt(((v[:, 0] - cx) ** 2 + (v[:, 1] - cy) ** 2).max()))
    return (cx, cy), r, float(v[:, 2].min()), float(v[:, 2].max())


def gripper_meshes(g: Gripper) -> list[tuple[str, Mesh]]:
    """A parallel-jaw gripper: palm plus two fingers whose tips are centred on ``g.position``."""
    finger_h, palm = 0.06, (0.03 + g.opening + 0.024, 0.03, 0.025)
    parts = {
        "palm": box_mesh(palm, (0.0, 0.0, finger_h + palm[2] / 2)),
        "finger_l": box_mesh((0.012, 0.022, finger_h), (-(g.opening / 2 + 0.006), 0.0, finger_h / 2)),
        "finger_r": box_mesh((0.012, 0.022, finger_h), (g.opening / 2 + 0.006, 0.0, finger_h / 2)),
    }
    out = []
    for name, m in parts.items():
        v = _yaw(m.vertices.astype(np.float64), g.yaw_deg) + np.asarray(g.position, np.float64)
        out.append((name, Mesh(v.astype(np.float32), m.faces, m.uv)))
    return out
