"""Hand-built scenes for fast tests; frames come from the box rasteriser (``robostress.questions.boxes``).

Real renders are tested separately on the session's tiny benchmark.
"""

from __future__ import annotations

from robostress.core.colour import PALETTE
from robostress.questions.boxes import box_render, sampled_clean_items
from robostress.scene.plan import (
    Camera,
    Gripper,
    Light,
    Material,
    Room,
    SceneObject,
    ScenePlan,
    Support,
)

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


fake_render = box_render  # the tests' name for it
__all__ = ["TABLE_Z", "fake_render", "handbuilt", "mat", "obj", "sampled_clean_items"]
