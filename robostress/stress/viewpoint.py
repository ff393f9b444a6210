"""Viewpoint stresses: change only the camera."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from robostress.errors import StressNotApplicable
from robostress.scene.camera import project
from robostress.scene.objects import world_mesh
from robostress.scene.plan import Camera, ScenePlan
from robostress.stress.base import stress
from robostress.stress.common import first_target


def _rot_z(v: np.ndarray, deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([math.cos(a) * v[0] - math.sin(a) * v[1], math.sin(a) * v[0] + math.cos(a) * v[1], v[2]])


def _vec(x: np.ndarray) -> tuple[float, float, float]:
    return (float(x[0]), float(x[1]), float(x[2]))


@stress("viewpoint", "extreme_viewpoint", measure="view_angle", direction=+1,
        severities=[{"angle_deg": a} for a in (10.0, 20.0, 32.0, 45.0, 60.0)])
def extreme_viewpoint(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """The camera orbits its look-at point (azimuth and elevation) and rolls, by a growing angle."""
    cam = plan.camera
    a = float(p["angle_deg"])
    sign = 1.0 if g.random() < 0.5 else -1.0
    look = np.asarray(cam.look_at)
    off = _rot_z(np.asarray(cam.position) - look, sign * a)  # azimuth
    dist = float(np.linalg.norm(off))
    elev = math.degrees(math.asin(off[2] / dist))
    new_elev = min(85.0, elev + 0.5 * a) if elev < 60 else max(15.0, elev - 0.5 * a)
    horiz = off[:2] / max(float(np.linalg.norm(off[:2])), 1e-9)
    e = math.radians(new_elev)
    pos = look + dist * np.array([horiz[0] * math.cos(e), horiz[1] * math.cos(e), math.sin(e)])
    new = cam.model_copy(update={"position": _vec(pos), "roll_deg": cam.roll_deg + sign * 0.5 * a})
    return plan.model_copy(update={"camera": new})


def _target_u(cam: Camera, verts: np.ndarray) -> tuple[float, float, float]:
    uv, _ = project(cam, verts, 1000, 1000)
    return float(uv[:, 0].min()), float(uv[:, 0].max()), float(uv[:, 0].mean())


@stress("viewpoint", "truncated_out_of_frame", measure="target_out_of_frame", direction=+1,
        severities=[{"out_fraction": f} for f in (0.15, 0.32, 0.5, 0.68, 0.85)])
def truncated_out_of_frame(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """The camera pans so the target slides across the image edge (a growing part leaves the frame)."""
    cam = plan.camera
    verts = world_mesh(first_target(plan)).vertices.astype(np.float64)
    lo, hi, _ = _target_u(cam, verts)
    right = (lo + hi) / 2 >= 500  # push it out through the nearer edge
    want = p["out_fraction"]
    pos, look = np.asarray(cam.position), np.asarray(cam.look_at)

    def panned(deg: float) -> Camera:
        return cam.model_copy(update={"look_at": _vec(pos + _rot_z(look - pos, deg))})

    def out(deg: float) -> float:  # horizontal share of the target's extent beyond the edge
        a, b, _ = _target_u(panned(deg), verts)
        return (b - 1000) / (b - a) if right else (0 - a) / (b - a)

    lo_deg, hi_deg = (0.0, 70.0) if out(5.0) > out(0.0) else (0.0, -70.0)  # the outward direction
    if out(hi_deg) < want:
        raise StressNotApplicable("panning 70 degrees does not move the target out of frame")
    for _ in range(40):
        mid = (lo_deg + hi_deg) / 2
        lo_deg, hi_deg = (mid, hi_deg) if out(mid) < want else (lo_deg, mid)
    return plan.model_copy(update={"camera": panned((lo_deg + hi_deg) / 2)})


@stress("viewpoint", "small_scale", measure="target_area", direction=-1,
        severities=[{"distance_factor": f} for f in (1.3, 1.7, 2.2, 2.8, 3.5)])
def small_scale(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """The camera dollies back along its view direction: targets shrink in the image.

    In a room the dolly stops 0.15 m inside the walls; the rest of the factor comes from a
    shorter focal length (a wider field of view), which shrinks the targets alike.
    """
    cam = plan.camera
    look, pos = np.asarray(cam.look_at), np.asarray(cam.position)
    f = float(p["distance_factor"])
    k = min(f, _dolly_limit(plan, look, pos - look))
    new = look + k * (pos - look)
    if new[2] > 20:
        raise StressNotApplicable("camera would leave the room")
    half = math.atan(math.tan(math.radians(cam.fov_deg) / 2) * f / k)
    if math.degrees(2 * half) >= 150:
        raise StressNotApplicable("the room is too small to shrink the targets this much")
    return plan.model_copy(update={"camera": cam.model_copy(update={"position": _vec(new),
                                                                    "fov_deg": math.degrees(2 * half)})})


def _dolly_limit(plan: ScenePlan, look: np.ndarray, back: np.ndarray) -> float:
    """Largest factor k so that look + k * back stays 0.15 m inside the room's walls."""
    room, k = plan.room, math.inf
    if room.wall is not None and room.wall_y is not None and back[1] > 0:
        k = min(k, (room.wall_y - 0.15 - look[1]) / back[1])
    if room.wall is not None and room.side_x is not None and abs(back[0]) > 1e-9:
        k = min(k, (room.side_x - 0.15 - abs(look[0])) / abs(back[0]))
    return max(k, 1.0)
