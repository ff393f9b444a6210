"""Scene families: the YAML schema in ``scenes/<name>.yaml``, loaded and checked."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from robostress.catalog import catalog_entry, yaml_problem
from robostress.core.colour import PALETTE
from robostress.errors import ConfigError
from robostress.scene.assets import AssetCatalog, asset_catalog, full_catalog
from robostress.scene.objects import get_category
from robostress.scene.scenery import scenery_catalog

SURFACES: dict[str, tuple[float, float, float]] = {
    "oak": (0.40, 0.25, 0.13), "marble": (0.60, 0.60, 0.58), "slate": (0.12, 0.13, 0.15),
    "beige": (0.55, 0.48, 0.38),
}


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SupportSpec(_Strict):
    """A support of a family."""

    id: str
    kind: str = "table"
    center: tuple[float, float, float]
    size: tuple[float, float]
    thickness: float = 0.04
    color: str
    texture: str | None = Field(default=None, description="surface texture name (LIBERO textures/)")
    uv_scale: float = Field(default=1.0, gt=0, description="texture repeats across the top")
    legs: bool = Field(default=False, description="a table on four legs")


class CameraSpec(_Strict):
    """Camera pose ranges."""

    position: tuple[float, float, float]
    position_jitter: tuple[float, float, float] = (0.0, 0.0, 0.0)
    look_at: tuple[float, float, float]
    look_jitter: float = 0.0
    fov_deg: tuple[float, float] = (55.0, 55.0)
    weight: float = Field(default=1.0, gt=0, description="relative probability among the family's cameras")


class RobotSpec(_Strict):
    """A Franka Panda on a pedestal beside the table, its gripper hovering over the workspace."""

    base: tuple[float, float, float] = Field(description="bottom of the arm's base (top of the pedestal)")
    yaw_deg: float = Field(default=-90.0, description="the direction the arm reaches (deg about z)")
    prob: float = Field(default=0.9, ge=0, le=1, description="probability that a scene shows the robot")
    hover: tuple[float, float] = Field(default=(0.2, 0.3), description="fingertips above the table, metres")
    reach: tuple[float, float] = Field(default=(0.5, 0.35), description="half extents (x, y) of hover points")
    reach_center: tuple[float, float] = Field(default=(0.0, 0.0), description="centre of hover points, from the table centre")
    clearance: float = Field(default=0.03, ge=0, description="kept between the robot and any object")


class LightSpec(_Strict):
    """The key area light."""

    position: tuple[float, float, float]
    jitter: float = 0.0
    size: float = 0.6
    intensity: float = Field(gt=0)
    color: tuple[float, float, float] = Field(default=(1.0, 1.0, 1.0), description="linear RGB tint "
                                              "(daylight cool, a lamp warm)")


class ScenerySpec(_Strict):
    """A static background piece of an environment (see ``robostress.scene.plan.Scenery``)."""

    id: str
    kind: Literal["mesh", "box"] = "mesh"
    asset: str | None = Field(default=None, description="scenery-catalog id (scenes/assets/scenery.yaml) of a mesh")
    position: tuple[float, float, float] = Field(description="centre of its base, metres")
    yaw_deg: float = 0.0
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    size: tuple[float, float, float] = Field(default=(0.0, 0.0, 0.0), description="a box's extent, metres")
    color: str = Field(default="beige", description="a box's surface colour name (SURFACES)")
    texture: str | None = Field(default=None, description="a box's surface texture (LIBERO textures/)")
    uv_scale: float = Field(default=1.0, gt=0)


class EnvironmentSpec(_Strict):
    """What makes an environment more than a room: its background pieces and their provenance."""

    name: str = Field(description="recorded in every plan of the environment ('kitchen', 'study')")
    description: str = ""
    scenery: tuple[ScenerySpec, ...] = ()


class FamilySpec(_Strict):
    """A scene family: the parameters of a kind of embodied scene."""

    name: str
    floor_color: str
    wall_color: str | None = None
    wall_y: float | None = None
    supports: tuple[SupportSpec, ...] = Field(min_length=1)
    object_count: tuple[int, int]
    categories: tuple[str, ...] = Field(min_length=1)
    size_jitter: float = Field(default=0.1, ge=0, lt=0.5)
    tipped_prob: float = Field(default=0.1, ge=0, le=1)
    targets: tuple[int, int] = (1, 2)
    workspace: tuple[float, float] = (0.7, 0.5)
    camera: CameraSpec | None = None
    cameras: tuple[CameraSpec, ...] = Field(default=(), description="alternative cameras, drawn by weight")
    key_light: LightSpec
    floor_texture: str | None = None
    wall_texture: str | None = None
    side_x: float | None = Field(default=None, description="|x| of side walls (None: none)")
    real_assets: bool = Field(default=False, description="categories are real textured asset categories")
    extra_assets: bool = Field(default=False, description="real assets come from the object catalog and the "
                               "extra catalog (scenes/assets/extra.yaml: more objects and categories)")
    duplicate_prob: float = Field(default=0.0, ge=0, le=1, description="P(a second instance of a category)")
    stack_prob: float = Field(default=0.0, ge=0, le=1, description="P(one object rests on another in a clean scene)")
    contain_prob: float = Field(
        default=0.0, ge=0, le=1,
        description="P(one object is put inside a container in a clean scene: a frying pan or basket whose "
                    "opening fits its footprint, the object seen over the rim; see robostress.scene.containers)")
    require_stack: bool = Field(default=False, description="redraw a layout until one object rests on another")
    multiples: tuple[int, ...] = Field(
        default=(1,), min_length=1,
        description="instances of one category per scene, cycled by a Latin square over scene index "
                    "(e.g. [1, 1, 2, 3]: count questions can then ask for 0-3 equally often)")
    featured_colour: bool = Field(
        default=False,
        description="real assets: the first object's colour is drawn first, by a Latin square over the "
                    "catalogue colours of the family's categories, and it is the first target (colour "
                    "questions ask it: each colour is then the answer equally often)")
    robot: RobotSpec | None = None
    ambient_intensity: float = Field(default=0.3, ge=0)
    ambient_color: tuple[float, float, float] = Field(default=(1.0, 1.0, 1.0), description="linear RGB tint "
                                                      "of the environment light (a sky's blue, a room's warmth)")
    environment: EnvironmentSpec | None = Field(default=None, description="a named environment: recorded in "
                                                "plans, with its scenery (None: the family's plain room)")
    environments: tuple[str, ...] = Field(
        default=(), description="a multi-environment family: scene families whose room, supports, cameras, "
                                "lights, robot and scenery a scene takes, drawn evenly over scene index (a Latin "
                                "square); the objects stay this family's")
    gripper_prob: float = Field(default=0.5, ge=0, le=1)
    palette: tuple[str, ...]


ENV_FIELDS = ("floor_color", "floor_texture", "wall_color", "wall_texture", "wall_y", "side_x", "supports",
              "workspace", "camera", "cameras", "key_light", "ambient_intensity", "ambient_color", "robot",
              "gripper_prob", "environment")
"""The fields a multi-environment family takes from the environment a scene draws."""


def environment_name(spec: FamilySpec) -> str | None:
    """The environment a family's plans record (None: a plain family, whose plans carry none)."""
    return spec.environment.name if spec.environment is not None else None


def with_environment(spec: FamilySpec, env: FamilySpec) -> FamilySpec:
    """``spec`` with the room, supports, cameras, lights, robot and scenery of ``env``; an
    environment without an ``environment`` block (lab_tabletop) is named after its family."""
    update = {f: getattr(env, f) for f in ENV_FIELDS}
    if env.environment is None:
        update["environment"] = EnvironmentSpec(name=env.name, description=f"the {env.name} family's room")
    return spec.model_copy(update={**update, "environments": ()})


def family_catalog(spec: FamilySpec) -> AssetCatalog:
    """The real-asset catalog a family draws its objects from."""
    return full_catalog() if spec.extra_assets else asset_catalog()


def load_family(name: str) -> FamilySpec:
    """The family ``name`` from ``scenes/<name>.yaml``, working directory first (ConfigError if unknown or invalid)."""
    path = catalog_entry("scenes", name)
    return _load_family_file(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=32)
def _load_family_file(path: Path, mtime_ns: int) -> FamilySpec:
    # keyed by file and its modification time: the working directory's catalog may change in-process
    try:
        data = yaml.safe_load(path.read_text())
        spec = FamilySpec.model_validate(data)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({yaml_problem(e)})") from e
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"{path}: invalid scene family field '{loc}': {err['msg']}") from e
    _check(spec, str(path))
    return spec


def _check(spec: FamilySpec, where: str) -> None:
    for env in spec.environments:
        sub = load_family(env)
        if sub.environments:
            raise ConfigError(f"{where}: environment {env!r} is itself a multi-environment family")
    if spec.environment is not None:
        _check_scenery(spec.environment, where)
    if (spec.camera is None) == (not spec.cameras):
        raise ConfigError(f"{where}: give exactly one of 'camera' or 'cameras'")
    if spec.real_assets:
        known = family_catalog(spec).categories
        bad = [c for c in spec.categories if c not in known]
        if bad:
            raise ConfigError(f"{where}: unknown real-asset categories {bad}; the catalog has {sorted(known)}")
    for c in spec.categories:
        get_category(c)
    unknown = [c for c in spec.palette if c not in PALETTE]
    surf = [s.color for s in spec.supports] + [spec.floor_color] + ([spec.wall_color] if spec.wall_color else [])
    unknown += [c for c in surf if c not in SURFACES]
    if unknown:
        raise ConfigError(f"{where}: unknown colour(s) {unknown}; objects use {sorted(PALETTE)}, "
                          f"surfaces use {sorted(SURFACES)}")
    lo, hi = spec.object_count
    if not 1 <= lo <= hi:
        raise ConfigError(f"{where}: object_count must be [min, max] with 1 <= min <= max")
    if not spec.real_assets and hi > len(spec.palette):
        raise ConfigError(f"{where}: {hi} objects need at least {hi} palette colours (have {len(spec.palette)})")


def _check_scenery(env: EnvironmentSpec, where: str) -> None:
    known = scenery_catalog().scenery
    ids = [s.id for s in env.scenery]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{where}: environment {env.name!r} repeats a scenery id")
    for s in env.scenery:
        if s.kind == "mesh" and s.asset not in known:
            raise ConfigError(f"{where}: unknown scenery mesh {s.asset!r}; the catalog has {sorted(known)}")
        if s.kind == "box" and (min(s.size) <= 0 or s.color not in SURFACES):
            raise ConfigError(f"{where}: scenery box {s.id!r} needs a positive size and a colour of {sorted(SURFACES)}")
