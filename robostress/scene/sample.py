"""Scene families (YAML in ``scenes/``) and seeded sampling of clean ScenePlans."""

from __future__ import annotations

import math
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from robostress.catalog import catalog_entry, yaml_problem
from robostress.errors import ConfigError, LayoutError
from robostress.scene.objects import get_category, world_extent
from robostress.scene.plan import (
    Camera,
    Gripper,
    Light,
    Material,
    Robot,
    Room,
    SceneObject,
    ScenePlan,
    Support,
)
from robostress.seeding import latin_draw, rng

if TYPE_CHECKING:
    from robostress.scene.assets import AssetCatalog

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
NO_COLOUR = "multicolour"  # colour name of a real object with no single dominant colour (never asked)
MARGIN = 0.012  # metres between footprints
ATTEMPTS = 200
CARRIER_MIN_AREA = 0.008  # m^2: top of a flat asset that something else fits on
MULTIPLE_MAX_AREA = 0.015  # m^2: footprint of a category that may appear several times
STACK_OVERHANG = 1.1  # an object may rest on a flat top whose footprint, scaled by this, contains its own
LAYOUTS, CAMERAS = 200, 40  # layouts tried (the first that works is kept: 40 left scene 53 of the standard seed without one); hover points tried for the robot


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
    gripper_prob: float = Field(default=0.5, ge=0, le=1)
    palette: tuple[str, ...]


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
    if (spec.camera is None) == (not spec.cameras):
        raise ConfigError(f"{where}: give exactly one of 'camera' or 'cameras'")
    if spec.real_assets:
        from robostress.scene.assets import asset_catalog

        known = asset_catalog().categories
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


def _material(name: str, table: dict[str, tuple[float, float, float]]) -> Material:
    return Material(color_name=name, rgb=table[name])


def _draws(spec: FamilySpec, g: np.random.Generator, n: int, index: int, seed: int) -> list[tuple[str, str | None, Material]]:
    """(category, asset, material) of each object to place.

    Procedural families colour each object from the palette. Real-asset families walk a seeded
    permutation of their categories scene by scene, so that consecutive scenes cover every
    category, and may add a second instance of a category in another colour (count questions).
    """
    if not spec.real_assets:  # the category is drawn per placement attempt (see _place)
        colours = list(g.permutation(spec.palette))
        return [("", None, _material(colours[k], PALETTE)) for k in range(n)]
    from robostress.scene.assets import asset_catalog

    cat = asset_catalog()
    k = len(spec.categories)
    start = index * spec.object_count[0]  # consecutive scenes overlap, never leave a gap
    cats = [spec.categories[int(rng(seed, spec.name, "categories", (start + j) // k).permutation(k)[(start + j) % k])]
            for j in range(n)]  # a fresh permutation for every pass over the categories
    by_cat = {c: sorted(a for a, s in cat.assets.items() if s.category == c) for c in cats}
    picks = [str(g.choice(by_cat[c])) for c in cats]
    m = latin_draw(spec.multiples, index, seed, spec.name, "multiples")
    if m > 1:  # one small category present m times: its copies are added last
        from robostress.scene.assets import load_asset

        small = [j for j, a in enumerate(picks) if small_footprint(load_asset(a).size)]
        j = small[0] if small else 0  # three baskets do not fit beside the rest
        c, first = cats[j], picks[j]
        rest = [(x, p) for i, (x, p) in enumerate(zip(cats, picks, strict=True)) if i != j]
        others = [str(a) for a in g.permutation([a for a in by_cat[c] if a != first])]
        cats = [c, *(x for x, _ in rest), *[c] * (m - 1)]
        picks = [first, *(p for _, p in rest), *(others + [first] * m)[: m - 1]]  # other assets, then twins
    elif g.random() < spec.duplicate_prob:  # one more object: a differently coloured twin category
        colour = {a: cat.assets[a].color for a in cat.assets}
        options = [(c, a) for c, p in zip(cats, picks, strict=True) for a in by_cat[c]
                   if colour[p] and colour[a] and colour[a] != colour[p] and cats.count(c) == 1]
        if options:
            c, a = options[int(g.integers(len(options)))]
            cats.append(c)
            picks.append(a)
    if spec.require_stack and not any(_carrier(a) for a in picks):  # something large enough to stack on
        j = 1 if cats.count(cats[0]) > 1 else len(cats) - 1  # not one of a category's several instances
        carriers = sorted(a for a, s in cat.assets.items() if s.category in spec.categories and _carrier(a)
                          and s.category not in cats)
        picks[j] = str(carriers[int(g.integers(len(carriers)))])
        cats[j] = cat.assets[picks[j]].category
    if spec.featured_colour:
        cats, picks = _feature_colour(spec, g, cats, picks, index, seed)
    return [(c, a, asset_material(a)) for c, a in zip(cats, picks, strict=True)]


def featurable_assets(spec: FamilySpec) -> list[str]:
    """Real assets that could be a family's featured object (sorted ids): of its categories, with
    a colour name, standing out from its first support (a featured object must be able to be a
    target)."""
    from robostress.scene.assets import asset_catalog

    return [a for a, s in sorted(asset_catalog().assets.items())
            if s.category in spec.categories and s.color and _stands_out(spec, a)]


def family_colours(spec: FamilySpec) -> list[str]:
    """Colour names of the family's featurable assets (``featurable_assets``)."""
    from robostress.scene.assets import asset_catalog

    cat = asset_catalog()
    return sorted({str(cat.assets[a].color) for a in featurable_assets(spec)})


def _stands_out(spec: FamilySpec, asset_id: str) -> bool:
    return _contrast(spec, asset_material(asset_id).rgb) >= TARGET_CONTRAST


def _feature_colour(spec: FamilySpec, g: np.random.Generator, cats: list[str], picks: list[str],
                    index: int, seed: int) -> tuple[list[str], list[str]]:
    """Move an object of the scene's drawn colour to the front (it becomes the first target):
    one already drawn, else a same-category asset of that colour swapped in, else one more object
    of a category that has such an asset. Carriers and a category's several instances stay."""
    from robostress.scene.assets import asset_catalog

    cat = asset_catalog()
    want = latin_draw(family_colours(spec), index, seed, spec.name, "colour")
    ok = [a for a in featurable_assets(spec) if cat.assets[a].color == want]
    j = next((i for i, a in enumerate(picks) if a in ok), None)
    if j is None:
        need_carrier = spec.require_stack and sum(map(_carrier, picks)) == 1
        free = [i for i, c in enumerate(cats) if cats.count(c) == 1 and not (need_carrier and _carrier(picks[i]))]
        same = [(i, a) for i in free for a in ok if cat.assets[a].category == cats[i]]
        other = [(0, a) for a in ok if cat.assets[a].category not in cats]
        if same:
            i, a = same[int(g.integers(len(same)))]
            picks[i], j = a, i
        elif other:  # added, not swapped in: every category still comes up in every run of scenes
            a = other[int(g.integers(len(other)))][1]
            cats, picks, j = [*cats, cat.assets[a].category], [*picks, a], len(picks)
        else:
            return cats, picks  # (no such scene in the shipped families) the colour is left to chance
    order = [j, *(i for i in range(len(picks)) if i != j)]
    return [cats[i] for i in order], [picks[i] for i in order]


def carries(category: str, size: tuple[float, ...]) -> bool:
    """Whether an object of ``category`` and footprint ``size`` has a flat top large enough to
    carry another object (the kind stacks are built on)."""
    return get_category(category).flat_top and size[0] * size[1] >= CARRIER_MIN_AREA


def small_footprint(size: tuple[float, ...]) -> bool:
    """Whether a footprint is small enough for a category placed several times (and for the top
    of a stack)."""
    return size[0] * size[1] < MULTIPLE_MAX_AREA


def _carrier(asset_id: str) -> bool:
    """Whether a real asset has a flat top large enough to carry another object."""
    from robostress.scene.assets import asset_spec, load_asset

    return carries(asset_spec(asset_id).category, load_asset(asset_id).size)


def asset_material(asset_id: str) -> Material:
    """The material of a real asset: its texture, its mean albedo and its colour name."""
    from robostress.scene.assets import asset_spec, load_asset

    return Material(color_name=asset_spec(asset_id).color or NO_COLOUR, rgb=load_asset(asset_id).mean_rgb,
                    texture_map=f"asset:{asset_id}")


def catalogue_object(asset_id: str) -> SceneObject:
    """A real asset as it comes from the catalogue: its own material and natural size, upright at
    the origin on the table (to ask what would fit on or in it, or how questions would name it)."""
    from robostress.scene.assets import asset_spec, load_asset

    return SceneObject(id=asset_id, category=asset_spec(asset_id).category, material=asset_material(asset_id),
                       asset=asset_id, position=(0.0, 0.0, 0.0), size=load_asset(asset_id).size, support_id="table")


_CATALOGUE: list[tuple[AssetCatalog, tuple[SceneObject, ...]]] = []  # (the catalog read, its objects)


def catalogue_objects() -> tuple[SceneObject, ...]:
    """Every asset of the catalog as ``catalogue_object`` gives it, in asset-id order; built once
    per read of the catalog (a changed catalog file is read anew by ``asset_catalog``)."""
    from robostress.scene.assets import asset_catalog

    cat = asset_catalog()
    if not _CATALOGUE or _CATALOGUE[0][0] is not cat:
        _CATALOGUE[:] = [(cat, tuple(catalogue_object(a) for a in sorted(cat.assets)))]
    return _CATALOGUE[0][1]


def _place(spec: FamilySpec, g: np.random.Generator, n: int, index: int = 0, seed: int = 0) -> list[SceneObject]:
    draws = _draws(spec, g, n, index, seed)
    n = len(draws)
    areas = np.array([s.size[0] * s.size[1] for s in spec.supports])
    placed: list[tuple[str, float, float, float]] = []  # support id, x, y, radius
    objects: list[SceneObject] = []
    for k in range(n):
        for _ in range(ATTEMPTS):
            sup = spec.supports[int(g.choice(len(spec.supports), p=areas / areas.sum()))]
            cname, asset, material = draws[k]
            cat = get_category(cname or str(g.choice(spec.categories)))
            if asset is None:
                size = tuple(float(s * g.uniform(1 - spec.size_jitter, 1 + spec.size_jitter))
                             for s in cat.nominal_size)
            else:
                from robostress.scene.assets import load_asset

                f = g.uniform(1 - spec.size_jitter, 1 + spec.size_jitter)
                size = tuple(float(s * f) for s in load_asset(asset).size)
            wx = min(spec.workspace[0], sup.size[0]) / 2
            wy = min(spec.workspace[1], sup.size[1]) / 2
            x = sup.center[0] + g.uniform(-wx, wx)
            y = sup.center[1] + g.uniform(-wy, wy)
            obj = SceneObject(id=f"obj{k:02d}", category=cat.name, material=material, asset=asset,
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


TARGET_CONTRAST = 20.0  # min CIELAB delta E between a real target's mean colour and its table's


def _pick_targets(spec: FamilySpec, objects: list[SceneObject], k: int) -> list[str]:
    """The first ``k`` objects, or for real assets the first ``k`` that stand out from the table.

    A target that already blends into the table (a beige box on light wood) has nowhere to go
    under camouflage, so its realised severity would not rise; such objects stay distractors.
    """
    if not spec.real_assets:
        return [o.id for o in objects[:k]]
    ok = [o.id for o in objects if _contrast(spec, o.material.rgb) >= TARGET_CONTRAST]
    return ok[:k]


def _contrast(spec: FamilySpec, rgb: tuple[float, float, float]) -> float:
    """CIELAB delta E between a mean albedo and the family's first support."""
    from robostress.render.renderer import linear_to_srgb8
    from robostress.stress.measures import lab

    def lab_of(c: tuple[float, float, float]) -> np.ndarray:
        return lab(linear_to_srgb8(np.asarray(c)))

    return float(np.linalg.norm(lab_of(rgb) - lab_of(_support(spec.supports[0]).material.rgb)))


def fits_on(size: tuple[float, ...], a: SceneObject) -> float | None:
    """The turn (0 or 90 degrees from ``a``'s yaw) at which an upright footprint of ``size``
    fits on ``a``'s flat top (with ``STACK_OVERHANG``), or None if it does not (or ``a`` is tipped)."""
    if a.tipped or not get_category(a.category).flat_top:
        return None
    ax, ay = a.size[0] * STACK_OVERHANG, a.size[1] * STACK_OVERHANG
    if size[0] <= ax and size[1] <= ay:  # footprints aligned with the base's
        return 0.0
    if size[0] <= ay and size[1] <= ax:
        return 90.0
    return None


def _stack_one(g: np.random.Generator, objects: list[SceneObject]) -> list[SceneObject]:
    """Put one object on top of a flat-topped one (clean scenes with stacks: 'on', 'clear' and
    planning questions then have varied answers). The base is drawn first (uniform over the
    flat-topped objects that can carry something), then the object on it. Returns the list
    unchanged if none fits."""
    names = Counter((o.category, o.material.color_name) for o in objects)
    fits: dict[str, list[tuple[SceneObject, float]]] = {}  # base -> (object that fits on it, its yaw)
    for a in objects:
        tops = []
        for b in objects:
            turn = None if b.id == a.id or b.tipped else fits_on(b.size, a)
            if turn is not None:
                tops.append((b, a.yaw_deg + turn))
        if tops:
            fits[a.id] = tops
    named = {k: [t for t in v if names[(t[0].category, t[0].material.color_name)] == 1] for k, v in fits.items()}
    if any(named.values()):  # an object that questions can name apart from its twins, if there is one
        fits = {k: v for k, v in named.items() if v}
    if not fits:
        return objects
    base = sorted(fits)[int(g.integers(len(fits)))]
    a = next(o for o in objects if o.id == base)
    b, yaw = fits[base][int(g.integers(len(fits[base])))]
    (ax, ay), _, _, top = world_extent(a)
    moved = b.model_copy(update={"position": (ax, ay, top), "support_id": a.id, "yaw_deg": yaw % 360})
    return [moved if o.id == b.id else o for o in objects]


def _contain_one(g: np.random.Generator, objects: list[SceneObject], cam: Camera) -> list[SceneObject]:
    """Put one object inside a container (clean scenes with containment: 'on' answers 'a basket',
    and the container cannot be picked up before its content is moved). The container is drawn
    first (uniform over the free, upright containers that something fits in), then the object:
    a free, small object of a kind stacks are not built on, whose footprint fits the opening
    and whose top the camera sees over the rim (one that questions can name apart from its
    twins, if there is one). Stack objects stay where they are. Returns the list unchanged if
    nothing fits."""
    from robostress.scene.containers import below_rim, fit_inside, is_container

    ids = {o.id for o in objects}
    busy = {i for o in objects if o.support_id in ids for i in (o.id, o.support_id)}  # stacks
    free = [o for o in objects if o.id not in busy and not o.tipped]
    small = [o for o in free if small_footprint(o.size) and not is_container(o) and not carries(o.category, o.size)]
    names = Counter((o.category, o.material.color_name) for o in objects)

    def named(o: SceneObject) -> bool:
        return names[(o.category, o.material.color_name)] == 1

    fits: dict[str, list[SceneObject]] = {}  # container -> the objects that fit in it, placed
    for a in (a for a in free if is_container(a)):
        placed = [b for b in (fit_inside(a, x) for x in small) if b is not None]
        placed = [b for b in placed if not below_rim(cam, _top_centre(b), a).any()]
        if placed:
            fits[a.id] = [b for b in placed if named(b)] or placed
    if any(named(b) for v in fits.values() for b in v):
        fits = {k: v for k, v in fits.items() if any(named(b) for b in v)}
    if not fits:
        return objects
    box = sorted(fits)[int(g.integers(len(fits)))]
    moved = fits[box][int(g.integers(len(fits[box])))]
    return [moved if o.id == moved.id else o for o in objects]


def _top_centre(o: SceneObject) -> np.ndarray:
    (cx, cy), _, _, z1 = world_extent(o)
    return np.array([cx, cy, z1])


def must_see(objects: list[SceneObject], targets: list[str]) -> list[str]:
    """Objects a clean scene must show: its targets, the objects of a stack (what rests on what)
    and every instance of a category placed several times (how many there are). Questions ask
    about what the scene was built to hold; a layout that hides it would turn the designed answer
    into whatever happens to be visible (a hidden stack top makes 'the table' the answer). An
    object inside a container and its container count as a stack.
    Applied to real-asset families (the lab), whose questions are drawn over stacks and multiples."""
    by_cat = Counter(o.category for o in objects)
    ids = {o.id for o in objects}
    stack = {i for o in objects if o.support_id in ids for i in (o.id, o.support_id)}
    return [o.id for o in objects if o.id in targets or o.id in stack or by_cat[o.category] > 1]


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
    if spec.cameras:
        w = np.array([c.weight for c in spec.cameras])
        c = spec.cameras[int(g.choice(len(w), p=w / w.sum()))]
    else:
        assert spec.camera is not None
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


def _segment_hits_box(p0: np.ndarray, p1: np.ndarray, centre: tuple[float, float, float],
                      size: tuple[float, float, float]) -> bool:
    """Whether the segment p0-p1 passes through an axis-aligned box (slab test)."""
    lo, hi = np.asarray(centre) - np.asarray(size) / 2, np.asarray(centre) + np.asarray(size) / 2
    d = p1 - p0
    t0, t1 = 0.0, 1.0
    for k in range(3):
        if abs(d[k]) < 1e-12:
            if not lo[k] <= p0[k] <= hi[k]:
                return False
            continue
        a, b = (lo[k] - p0[k]) / d[k], (hi[k] - p0[k]) / d[k]
        t0, t1 = max(t0, min(a, b)), min(t1, max(a, b))
        if t0 > t1:
            return False
    return True


def _targets_hidden(cam: Camera, objs: list[SceneObject], targets: list[str]) -> bool:
    """Whether another object's box stands between the camera and a target's centre and top
    (a clean target hidden behind a basket has nowhere to go under occlusion or any stress).
    A target inside a container is hidden by its container only below the front rim."""
    from robostress.scene.containers import below_rim, inside

    eye = np.asarray(cam.position)
    by_id = {o.id: o for o in objs}
    for t in (o for o in objs if o.id in targets):
        (cx, cy), _, z0, z1 = world_extent(t)
        points = [np.array([cx, cy, (z0 + z1) / 2]), np.array([cx, cy, z1])]
        box = by_id.get(t.support_id)
        box = box if box is not None and inside(t, box) else None
        rim = below_rim(cam, np.array(points), box) if box is not None else [False] * len(points)
        others = [object_box(o) for o in objs if o.id != t.id and o.support_id != t.id and o is not box]
        if all(r or any(_segment_hits_box(eye, p, *b) for b in others) for p, r in zip(points, rim, strict=True)):
            return True
    return False


def object_box(o: SceneObject) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """(centre, size) of an axis-aligned box that encloses a placed object."""
    (cx, cy), r, z0, z1 = world_extent(o)
    return (cx, cy, (z0 + z1) / 2), (2 * r, 2 * r, z1 - z0)


def robot_collides(robot: Robot, objects: tuple[SceneObject, ...] | list[SceneObject], clearance: float) -> bool:
    """Whether the posed robot comes within ``clearance`` of any object's bounding box."""
    from robostress.scene.robot import robot_intersects_box

    return any(robot_intersects_box(robot, *object_box(o), margin=clearance) for o in objects)


def _robot(spec: FamilySpec, g: np.random.Generator, objects: list[SceneObject],
           targets: list[str], cam: Camera) -> tuple[Robot | None, Gripper | None]:
    """A collision-free arm pose, the gripper hovering in view over the workspace, not over a target."""
    rs = spec.robot
    if rs is None:
        return None, None
    from robostress.render.camera import project
    from robostress.scene.robot import fingertip_center, solve_reach

    top = spec.supports[0].center
    for _ in range(CAMERAS):
        x = top[0] + rs.reach_center[0] + g.uniform(-rs.reach[0], rs.reach[0])
        y = top[1] + rs.reach_center[1] + g.uniform(-rs.reach[1], rs.reach[1])
        if any(math.hypot(x - o.position[0], y - o.position[1]) < 0.08 for o in objects if o.id in targets):
            continue  # keep the hand from hiding a target from the camera
        z = top[2] + g.uniform(*rs.hover)
        try:
            robot = solve_reach(rs.base, rs.yaw_deg, (float(x), float(y), float(z)),
                                opening=float(g.uniform(0.03, 0.08)), seed=int(g.integers(1 << 30)))
        except ValueError:
            continue
        tip = fingertip_center(robot)
        uv, depth = project(cam, np.array([tip, tip + [0, 0, 0.1]]), 100, 100)
        if (depth > 0).all() and (np.abs(uv - 50) < 42).all() and not robot_collides(robot, objects, rs.clearance):
            return robot, Gripper(position=tuple(float(c) for c in tip),  # type: ignore[arg-type]
                                  yaw_deg=0.0, opening=robot.opening)
    return None, None


def _support(s: SupportSpec) -> Support:
    return Support(id=s.id, kind=s.kind, center=s.center, size=s.size,  # type: ignore[arg-type]
                   thickness=s.thickness, material=_surface(s.color, s.texture, s.uv_scale), legs=s.legs)


def _surface(colour: str, texture: str | None, uv_scale: float) -> Material:
    """A surface material: its named colour, or a texture image whose mean albedo becomes its colour."""
    m = _material(colour, SURFACES)
    if texture is None:
        return m
    from robostress.scene.assets import texture_mean_rgb

    key = f"surface:{texture}"
    return m.model_copy(update={"texture_map": key, "uv_scale": uv_scale, "rgb": texture_mean_rgb(key)})


def _lights(spec: FamilySpec, g: np.random.Generator) -> tuple[Light, ...]:
    """One key area light and a dim environment.

    One area light only, on purpose: Mitsuba 3.9 does not keep the order of several area
    emitters stable between loads of the same scene, and the order decides which random sample
    goes to which light, so two area lights would break byte-identical renders.
    """
    kl = spec.key_light
    pos = np.asarray(kl.position) + g.uniform(-kl.jitter, kl.jitter, 3) * np.array([1, 1, 0.3])
    return (Light(id="key", kind="area", role="key", position=tuple(map(float, pos)),  # type: ignore[arg-type]
                  target=spec.supports[0].center, size=kl.size, intensity=kl.intensity),
            Light(id="ambient", kind="ambient", role="ambient", intensity=spec.ambient_intensity))


def scene_id(family: str, seed: int, index: int) -> str:
    """The id of scene ``index`` of a family and seed (what ``sample_scene`` names it)."""
    return f"{family}-{seed}-{index:04d}"


def sample_scene(family: str | FamilySpec, seed: int, index: int = 0) -> ScenePlan:
    """A clean scene of ``family``, fully determined by (family, seed, index)."""
    spec = load_family(family) if isinstance(family, str) else family
    g = rng(seed, spec.name, index, "scene")
    n = int(g.integers(spec.object_count[0], spec.object_count[1] + 1))
    error: LayoutError | None = None
    want_robot = spec.robot is not None and g.random() < spec.robot.prob
    robot = gripper = None
    for _ in range(LAYOUTS):
        try:
            objects = _place(spec, g, n, index, seed)
        except LayoutError as e:  # an unlucky arrangement: lay the scene out again
            error = e
            continue
        k = int(g.integers(spec.targets[0], min(spec.targets[1], n) + 1))
        targets = _pick_targets(spec, objects, k)
        if not targets:
            continue
        cam = _camera(spec, g)
        if not _targets_in_view(cam, objects, targets):
            continue
        objects = [o.model_copy(update={"role": "target"}) if o.id in targets else o for o in objects]
        if spec.stack_prob and g.random() < spec.stack_prob:
            stacked = _stack_one(g, objects)
            if spec.require_stack and stacked is objects:
                continue  # no object fits on another in this layout: lay it out again
            if not _targets_in_view(cam, stacked, must_see(stacked, targets) if spec.real_assets else targets):
                continue
            objects = stacked
        elif spec.real_assets and not _targets_in_view(cam, objects, must_see(objects, targets)):
            continue
        if spec.contain_prob and g.random() < spec.contain_prob:  # (no draw in families without)
            contained = _contain_one(g, objects, cam)
            if contained is not objects and not _targets_in_view(cam, contained, must_see(contained, targets)):
                continue
            objects = contained
        if _targets_hidden(cam, objects, must_see(objects, targets) if spec.real_assets else targets):
            continue
        if want_robot:  # a layout where the arm cannot hover in view without touching anything is redrawn
            robot, gripper = _robot(spec, g, objects, targets, cam)
            if robot is None:
                continue
        break
    else:
        raise error or LayoutError(f"scene family {spec.name!r}: could not lay out the scene with its targets "
                                   f"(and robot) in view of the camera")
    lights = _lights(spec, g)
    sup0 = spec.supports[0]
    if spec.robot is None and g.random() < spec.gripper_prob:
        gx = sup0.center[0] + g.uniform(-0.25, 0.25)
        gy = sup0.center[1] + g.uniform(-0.2, 0.1)
        gripper = Gripper(position=(float(gx), float(gy), sup0.center[2] + 0.22),
                          yaw_deg=float(g.uniform(-30, 30)), opening=float(g.uniform(0.04, 0.08)))
    supports = tuple(_support(s) for s in spec.supports)
    wall = _surface(spec.wall_color, spec.wall_texture, 4.0) if spec.wall_color else None
    room = Room(floor=_surface(spec.floor_color, spec.floor_texture, 6.0), wall=wall, wall_y=spec.wall_y,
                side_x=spec.side_x)
    return ScenePlan(scene_id=scene_id(spec.name, seed, index), family=spec.name, seed=seed, room=room,
                     supports=supports, objects=tuple(objects), lights=lights, camera=cam,
                     gripper=gripper, robot=robot, targets=tuple(targets))
