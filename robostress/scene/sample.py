"""Scene families (YAML in ``scenes/``) and seeded sampling of clean ScenePlans."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from robostress.catalog import catalog_entry
from robostress.errors import ConfigError, LayoutError
from robostress.scene.objects import get_category, world_extent
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
from robostress.seeding import rng

# Linear-RGB albedos. Object colours are kept apart from surface colours so that a named
# colour always means the same thing in questions.
PALETTE: dict[str, tuple[float, float, float]] = {
    "red": (0.60, 0.04, 0.03), "green": (0.06, 0.40, 0.06), "blue": (0.04, 0.10, 0.60),
    "yellow": (0.70, 0.55, 0.03), "orange": (0.75, 0.22, 0.02), "purple": (0.25, 0.05, 0.45),
    "pink": (0.75, 0.25, 0.40), "cyan": (0.04, 0.45, 0.50), "brown": (0.20, 0.09, 0.03),
    "gray": (0.22, 0.22, 0.22), "white": (0.80, 0.80, 0.80), "black": (0.02, 0.02, 0.02),
}
SURFACES: dict[str, tuple[float, float, float]] = {
    "oak": (0.40, 0.25, 0.13), "marble": (0.60, 0.60, 0.58), "slate": (0.12, 0.13, 0.15),
    "beige": (0.55, 0.48, 0.38),
}
MARGIN = 0.012  # metres between footprints
ATTEMPTS = 200


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


class CameraSpec(_Strict):
    """Camera pose ranges."""

    position: tuple[float, float, float]
    position_jitter: tuple[float, float, float] = (0.0, 0.0, 0.0)
    look_at: tuple[float, float, float]
    look_jitter: float = 0.0
    fov_deg: tuple[float, float] = (55.0, 55.0)


class LightSpec(_Strict):
    """The key area light."""

    position: tuple[float, float, float]
    jitter: float = 0.0
    size: float = 0.6
    intensity: float = Field(gt=0)


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
    camera: CameraSpec
    key_light: LightSpec
    ambient_intensity: float = Field(default=0.3, ge=0)
    gripper_prob: float = Field(default=0.5, ge=0, le=1)
    palette: tuple[str, ...]


@lru_cache(maxsize=32)
def load_family(name: str) -> FamilySpec:
    """The family ``name`` from ``scenes/<name>.yaml`` (ConfigError if unknown or invalid)."""
    path = catalog_entry("scenes", name)
    try:
        data = yaml.safe_load(path.read_text())
        spec = FamilySpec.model_validate(data)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e})") from e
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"{path}: invalid scene family field '{loc}': {err['msg']}") from e
    _check(spec, str(path))
    return spec


def _check(spec: FamilySpec, where: str) -> None:
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
    if hi > len(spec.palette):
        raise ConfigError(f"{where}: {hi} objects need at least {hi} palette colours (have {len(spec.palette)})")


def _material(name: str, table: dict[str, tuple[float, float, float]]) -> Material:
    return Material(color_name=name, rgb=table[name])


def _place(spec: FamilySpec, g: np.random.Generator, n: int) -> list[SceneObject]:
    colours = list(g.permutation(spec.palette))
    areas = np.array([s.size[0] * s.size[1] for s in spec.supports])
    placed: list[tuple[str, float, float, float]] = []  # support id, x, y, radius
    objects: list[SceneObject] = []
    for k in range(n):
        for _ in range(ATTEMPTS):
            sup = spec.supports[int(g.choice(len(spec.supports), p=areas / areas.sum()))]
            cat = get_category(str(g.choice(spec.categories)))
            size = tuple(float(s * g.uniform(1 - spec.size_jitter, 1 + spec.size_jitter))
                         for s in cat.nominal_size)
            wx = min(spec.workspace[0], sup.size[0]) / 2
            wy = min(spec.workspace[1], sup.size[1]) / 2
            x = sup.center[0] + g.uniform(-wx, wx)
            y = sup.center[1] + g.uniform(-wy, wy)
            obj = SceneObject(id=f"obj{k:02d}", category=cat.name, material=_material(colours[k], PALETTE),
                              position=(float(x), float(y), sup.center[2]), yaw_deg=float(g.uniform(0, 360)),
                              tipped=bool(cat.can_tip and g.random() < spec.tipped_prob), size=size,  # type: ignore[arg-type]
                              support_id=sup.id)
            (cx, cy), r, _, zmax = world_extent(obj)
            inside = (abs(cx - sup.center[0]) + r < sup.size[0] / 2 - MARGIN
                      and abs(cy - sup.center[1]) + r < sup.size[1] / 2 - MARGIN)
            free = all(s != sup.id or math.hypot(cx - px, cy - py) > r + pr + MARGIN
                       for s, px, py, pr in placed)
            if inside and free and _clears_above(spec, sup.id, cx, cy, r, zmax):
                placed.append((sup.id, cx, cy, r))
                objects.append(obj)
                break
        else:
            raise LayoutError(f"scene family {spec.name!r}: object {k + 1} of {n} does not fit on "
                              f"its supports after {ATTEMPTS} tries (too many or too large objects "
                              f"for the support sizes / workspace)")
    return objects


def _clears_above(spec: FamilySpec, sup_id: str, cx: float, cy: float, r: float, zmax: float) -> bool:
    """An object under a higher support (e.g. below a shelf) must fit beneath it."""
    top = next(s.center[2] for s in spec.supports if s.id == sup_id)
    for s in spec.supports:
        if s.center[2] <= top:
            continue
        under = abs(cx - s.center[0]) < s.size[0] / 2 + r and abs(cy - s.center[1]) < s.size[1] / 2 + r
        if under and zmax > s.center[2] - s.thickness - 0.02:
            return False
    return True


def _camera(spec: FamilySpec, g: np.random.Generator) -> Camera:
    c = spec.camera
    pos = np.asarray(c.position) + g.uniform(-1, 1, 3) * np.asarray(c.position_jitter)
    look = np.asarray(c.look_at) + g.uniform(-1, 1, 3) * c.look_jitter
    return Camera(position=tuple(map(float, pos)), look_at=tuple(map(float, look)),  # type: ignore[arg-type]
                  fov_deg=float(g.uniform(*c.fov_deg)))


def _targets_in_view(cam: Camera, objs: list[SceneObject], targets: list[str]) -> bool:
    from robostress.render.camera import project

    pts = np.array([[*o.position[:2], o.position[2] + o.size[2] / 2] for o in objs if o.id in targets])
    uv, z = project(cam, pts, 100, 100)
    return bool((z > 0).all() and (np.abs(uv - 50) < 35).all())


def sample_scene(family: str | FamilySpec, seed: int, index: int = 0) -> ScenePlan:
    """A clean scene of ``family``, fully determined by (family, seed, index)."""
    spec = load_family(family) if isinstance(family, str) else family
    g = rng(seed, spec.name, index, "scene")
    n = int(g.integers(spec.object_count[0], spec.object_count[1] + 1))
    for _ in range(20):
        objects = _place(spec, g, n)
        k = int(g.integers(spec.targets[0], min(spec.targets[1], n) + 1))
        targets = [o.id for o in objects[:k]]
        cam = _camera(spec, g)
        if _targets_in_view(cam, objects, targets):
            break
    else:
        raise LayoutError(f"scene family {spec.name!r}: could not keep the targets in view of the camera")
    objects = [o.model_copy(update={"role": "target"}) if o.id in targets else o for o in objects]
    kl = spec.key_light
    light_pos = np.asarray(kl.position) + g.uniform(-kl.jitter, kl.jitter, 3) * np.array([1, 1, 0.3])
    sup0 = spec.supports[0]
    lights = (Light(id="key", kind="area", role="key", position=tuple(map(float, light_pos)),  # type: ignore[arg-type]
                    target=sup0.center, size=kl.size, intensity=kl.intensity),
              Light(id="ambient", kind="ambient", role="ambient", intensity=spec.ambient_intensity))
    gripper = None
    if g.random() < spec.gripper_prob:
        gx = sup0.center[0] + g.uniform(-0.25, 0.25)
        gy = sup0.center[1] + g.uniform(-0.2, 0.1)
        gripper = Gripper(position=(float(gx), float(gy), sup0.center[2] + 0.22),
                          yaw_deg=float(g.uniform(-30, 30)), opening=float(g.uniform(0.04, 0.08)))
    supports = tuple(Support(id=s.id, kind=s.kind, center=s.center, size=s.size,  # type: ignore[arg-type]
                             thickness=s.thickness, material=_material(s.color, SURFACES))
                     for s in spec.supports)
    room = Room(floor=_material(spec.floor_color, SURFACES),
                wall=_material(spec.wall_color, SURFACES) if spec.wall_color else None, wall_y=spec.wall_y)
    return ScenePlan(scene_id=f"{spec.name}-{seed}-{index:04d}", family=spec.name, seed=seed, room=room,
                     supports=supports, objects=tuple(objects), lights=lights, camera=cam,
                     gripper=gripper, targets=tuple(targets))
