"""ScenePlan: a renderer-independent, typed, JSON-serialisable description of one scene.

Units: metres and degrees; world frame is z-up, the robot (camera) looks roughly along +y.
Colours are linear RGB in [0, 1]. A plan is frozen: stresses return modified copies
(``plan.model_copy(update=...)``) so that a stressed twin can be diffed against its clean plan.
"""

from __future__ import annotations

import hashlib
import json
from typing import ClassVar, Literal

from pydantic import Field

from robostress.core.records import Frozen, OmitNone

PLAN_SCHEMA_VERSION = 2

Vec3 = tuple[float, float, float]
RGB = tuple[float, float, float]


class Texture(Frozen):
    """A procedural high-frequency two-colour pattern over a material's albedo.

    Cells of a grid in uv space keep the albedo or take a second colour: the albedo mixed toward
    ``rgb2`` by ``contrast``. Which cells do is an ordered dither (a 4 x 4 Bayer tile)
    thresholded at ``share``, so every 4 x 4 block of cells holds that share exactly; at 0.5 it
    is a checkerboard (a stripe pattern uses the first row of the tile).
    """

    kind: Literal["checker", "stripes"] = "checker"
    frequency: float = Field(gt=0, description="pattern repeats per unit of uv")
    contrast: float = Field(ge=0, le=1, description="how far the second colour moves from the albedo toward rgb2")
    rgb2: RGB = Field(default=(0.0, 0.0, 0.0), description="colour the pattern's cells move toward "
                      "(black: a darker shade of the albedo), linear RGB")
    share: float = Field(default=0.5, ge=0, le=1, description="share of cells with the second colour (multiples of 1/16)")


class Material(Frozen):
    """A layered material: diffuse base, optionally blended with a metal coat and with glass.

    One continuous parameterisation serves every material stress, so severities are
    continuous physical quantities rather than categorical swaps.
    """

    color_name: str = Field(description="human colour name of the base albedo (for questions)")
    rgb: RGB = Field(description="base diffuse albedo, linear RGB")
    albedo_scale: float = Field(default=1.0, ge=0, le=1, description="multiplies the albedo")
    roughness: float = Field(default=0.4, gt=0, le=1, description="GGX alpha of the coat")
    coat_weight: float = Field(default=0.0, ge=0, le=1, description="blend weight of the metal coat")
    transmission: float = Field(default=0.0, ge=0, le=1, description="blend weight of glass")
    tint: RGB = Field(default=(1.0, 1.0, 1.0), description="glass transmittance tint")
    texture: Texture | None = Field(default=None, description="optional albedo pattern")
    texture_map: str | None = Field(default=None, description="image albedo: 'asset:<id>' or 'surface:<name>'")
    uv_scale: float = Field(default=1.0, gt=0, description="repeats of the image per unit of uv")
    blend: float = Field(default=0.0, ge=0, le=1, description="weight of blend_rgb mixed into the albedo")
    blend_rgb: RGB = Field(default=(0.0, 0.0, 0.0), description="colour the albedo is blended toward")

    def effective_rgb(self) -> RGB:
        """The mean albedo after blending and scaling (what a flat version of it looks like)."""
        c = [((1 - self.blend) * a + self.blend * b) * self.albedo_scale for a, b in zip(self.rgb, self.blend_rgb, strict=True)]
        return (c[0], c[1], c[2])


class Deformation(Frozen):
    """A non-rigid deformation applied to an object's mesh (base stays on its support)."""

    kind: Literal["none", "bend", "twist", "crumple"] = "none"
    amplitude: float = Field(default=0.0, ge=0, description="bend/twist in radians, crumple in fraction of size")
    seed: int = Field(default=0, description="seed of the crumple noise")


class SceneObject(Frozen):
    """One movable object resting on a support surface or on another object."""

    id: str = Field(description="stable entity id, e.g. 'obj03'")
    category: str = Field(description="object-library category, e.g. 'mug'")
    material: Material
    position: Vec3 = Field(description="world position of the centre of the object's base")
    yaw_deg: float = Field(default=0.0, description="rotation about the world z axis")
    tipped: bool = Field(default=False, description="lying on its side instead of upright")
    size: Vec3 = Field(description="axis-aligned extent (x, y, z) in the object frame, metres")
    support_id: str = Field(description="id of the support or object it rests on")
    role: Literal["target", "distractor", "occluder", "stack"] = "distractor"
    deformation: Deformation = Deformation()
    asset: str | None = Field(default=None, description="asset-catalog id of a real textured mesh (None: procedural)")


class Support(Frozen):
    """A horizontal support surface (table top, counter, shelf board) modelled as a slab."""

    id: str
    kind: Literal["table", "counter", "shelf"] = "table"
    center: Vec3 = Field(description="centre of the top face")
    size: tuple[float, float] = Field(description="extent of the top face along x and y")
    thickness: float = 0.04
    material: Material
    legs: bool = Field(default=False, description="draw four legs down to the floor (a table)")


class Light(Frozen):
    """An emitter. ``intensity`` is radiance (area), intensity (spot) or radiance (ambient)."""

    id: str
    kind: Literal["area", "spot", "ambient"]
    role: Literal["key", "fill", "ambient", "glare"] = "key"
    position: Vec3 = (0.0, 0.0, 0.0)
    target: Vec3 = (0.0, 0.0, 0.0)
    size: float = Field(default=0.5, description="edge length of an area light, metres")
    intensity: float = Field(ge=0)
    color: RGB = (1.0, 1.0, 1.0)
    cutoff_deg: float = Field(default=20.0, description="spot cone half-angle")


class Caster(Frozen):
    """An out-of-frame blocker that casts a shadow (owned by the lighting dimension)."""

    id: str
    center: Vec3
    size: tuple[float, float]


class Camera(Frozen):
    """A pinhole camera where a robot's head or wrist camera would sit."""

    position: Vec3
    look_at: Vec3
    up: Vec3 = (0.0, 0.0, 1.0)
    fov_deg: float = Field(default=55.0, gt=1, lt=170, description="horizontal field of view")
    roll_deg: float = Field(default=0.0, description="rotation about the viewing axis")


class Room(Frozen):
    """The static surroundings: a floor and an optional back wall."""

    floor: Material
    wall: Material | None = None
    wall_y: float | None = Field(default=None, description="y of the back wall plane")
    side_x: float | None = Field(default=None, description="|x| of the two side walls (None: none)")


class Gripper(Frozen):
    """A procedural parallel-jaw gripper hanging above the workspace."""

    position: Vec3 = Field(description="centre between the fingertips")
    yaw_deg: float = 0.0
    opening: float = Field(default=0.06, description="distance between the fingers, metres")


Joints7 = tuple[float, float, float, float, float, float, float]
PANDA_HOME: Joints7 = (0.0, 0.19635, 0.0, -2.61799, 0.0, 2.94159, 0.785398)
"""Panda's usual home pose (robosuite's ``init_qpos``): elbow up, gripper pointing down."""


class Robot(Frozen):
    """A posed Franka Panda arm with its parallel-jaw gripper (meshes from robosuite's MJCF).

    The base frame is link0's: its origin is the centre of the base's bottom face and the arm
    reaches along the base's +x axis at zero joint angles; ``yaw_deg`` turns that axis about z.
    """

    position: Vec3 = Field(description="world position of the base (bottom of link0), metres")
    yaw_deg: float = Field(default=0.0, description="rotation of the base about the world z axis")
    joints: Joints7 = Field(
        default=PANDA_HOME, description="the 7 arm joint angles joint1..joint7, radians")
    opening: float = Field(default=0.06, ge=0.0, le=0.08,
                           description="distance between the two fingers, metres (0 = closed)")


class Scenery(Frozen):
    """A static piece of an environment's background (a kitchen unit, a shelf, a cabinet body):
    rendered as part of the room (instance id 0), never an object questions or stresses touch."""

    id: str = Field(description="unique within the plan, e.g. 'kitchen_unit'")
    kind: Literal["mesh", "box"] = Field(description="a scenery-catalog mesh, or a textured box")
    asset: str | None = Field(default=None, description="scenery-catalog id of a mesh (scenes/assets/scenery.yaml)")
    position: Vec3 = Field(description="world position of the centre of its base, metres")
    yaw_deg: float = Field(default=0.0, description="rotation about the world z axis")
    scale: Vec3 = Field(default=(1.0, 1.0, 1.0), description="a mesh's scale on top of the catalog's")
    size: Vec3 = Field(default=(0.0, 0.0, 0.0), description="a box's extent (x, y, z) before yaw, metres")
    material: Material | None = Field(default=None, description="a box's surface (a mesh has its own texture)")


class ScenePlan(OmitNone):
    """Everything needed to render a scene and to derive exact ground truth.

    ``environment`` and ``scenery`` are left out of the JSON while None, so a plan of a family
    without an environment (lab_tabletop) serialises, and hashes, exactly as before they existed.
    """

    omit_if_none: ClassVar[tuple[str, ...]] = ("environment", "scenery")

    schema_version: int = PLAN_SCHEMA_VERSION
    scene_id: str
    family: str
    seed: int
    room: Room
    supports: tuple[Support, ...]
    objects: tuple[SceneObject, ...]
    lights: tuple[Light, ...]
    casters: tuple[Caster, ...] = ()
    camera: Camera
    gripper: Gripper | None = Field(default=None, description="the gripper's fingertip frame (questions use it)")
    robot: Robot | None = Field(default=None, description="a posed arm whose hand is the gripper (rendered)")
    targets: tuple[str, ...] = Field(description="ids of the objects stresses focus on")
    environment: str | None = Field(default=None, description="the environment it was drawn in "
                                    "('lab', 'kitchen', 'study'; None: the family's own room)")
    scenery: tuple[Scenery, ...] | None = Field(default=None, description="the environment's static background pieces")

    def object(self, object_id: str) -> SceneObject:
        """Return the object with ``object_id`` (KeyError if absent)."""
        for o in self.objects:
            if o.id == object_id:
                return o
        raise KeyError(object_id)

    def support(self, support_id: str) -> Support:
        """Return the support with ``support_id`` (KeyError if absent)."""
        for s in self.supports:
            if s.id == support_id:
                return s
        raise KeyError(support_id)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no whitespace): the basis of content hashes."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    def replace_object(self, obj: SceneObject) -> ScenePlan:
        """Return a copy with the object of the same id replaced."""
        objs = tuple(obj if o.id == obj.id else o for o in self.objects)
        return self.model_copy(update={"objects": objs})


def entity_ids(plan: ScenePlan) -> list[str]:
    """Ids that get an instance number in masks, in a stable order (1-based numbering)."""
    ids = [s.id for s in plan.supports] + [o.id for o in plan.objects]
    return ids + (["gripper"] if plan.gripper is not None else []) + (["robot"] if plan.robot is not None else [])
