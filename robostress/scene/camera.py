"""Pinhole camera math matching Mitsuba's ``perspective`` sensor (horizontal fov, look_at).

Mitsuba's look_at puts camera +x to the image *left*, +y up and +z forward; image x grows
to the right and y downwards, with pixel i covering [i, i+1) (centre at i + 0.5).
"""

from __future__ import annotations

import math

import numpy as np

from robostress.scene.plan import Camera


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    if n < 1e-12:
        raise ValueError("degenerate camera vector")
    return v / n


def look_at_vectors(cam: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(origin, target, up) for Mitsuba's look_at, with the camera roll folded into ``up``."""
    o = np.asarray(cam.position, dtype=np.float64)
    t = np.asarray(cam.look_at, dtype=np.float64)
    d = _unit(t - o)
    up = np.asarray(cam.up, dtype=np.float64)
    if abs(float(np.dot(_unit(up), d))) > 0.999:  # looking straight along up: pick another
        up = np.array([0.0, 1.0, 0.0])
    up = _unit(up - np.dot(up, d) * d)
    r = math.radians(cam.roll_deg)
    # Rodrigues rotation of up about the viewing direction.
    up = up * math.cos(r) + np.cross(d, up) * math.sin(r) + d * np.dot(d, up) * (1 - math.cos(r))
    return o, t, _unit(up)


def camera_axes(cam: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(origin, left, up, forward) unit vectors of the camera frame in world space."""
    o, t, up = look_at_vectors(cam)
    d = _unit(t - o)
    left = _unit(np.cross(up, d))
    return o, left, np.cross(d, left), d


def project(cam: Camera, points: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Project world points (N, 3) to continuous pixel coordinates (N, 2) and camera depth (N,).

    Points behind the camera get depth <= 0; their pixel coordinates are meaningless.
    """
    o, left, up, d = camera_axes(cam)
    p = np.asarray(points, dtype=np.float64) - o
    xc, yc, zc = p @ left, p @ up, p @ d
    tan_x = math.tan(math.radians(cam.fov_deg) / 2)
    tan_y = tan_x * height / width
    safe = np.where(np.abs(zc) < 1e-9, 1e-9, zc)
    u = 0.5 * width * (1.0 - xc / (safe * tan_x))
    v = 0.5 * height * (1.0 - yc / (safe * tan_y))
    return np.stack([u, v], axis=-1), zc


def view_direction(cam: Camera) -> np.ndarray:
    """Unit viewing direction in world space."""
    return _unit(np.asarray(cam.look_at, dtype=np.float64) - np.asarray(cam.position, dtype=np.float64))
