"""Boxes around placed objects and whether the posed robot arm touches them."""

from __future__ import annotations

from robostress.scene.objects import world_extent
from robostress.scene.plan import Robot, SceneObject
from robostress.scene.robot import robot_intersects_box


def object_box(o: SceneObject) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """(centre, size) of an axis-aligned box that encloses a placed object."""
    (cx, cy), r, z0, z1 = world_extent(o)
    return (cx, cy, (z0 + z1) / 2), (2 * r, 2 * r, z1 - z0)


def robot_collides(robot: Robot, objects: tuple[SceneObject, ...] | list[SceneObject], clearance: float) -> bool:
    """Whether the posed robot comes within ``clearance`` of any object's bounding box."""
    return any(robot_intersects_box(robot, *object_box(o), margin=clearance) for o in objects)
