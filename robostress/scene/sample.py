"""Scene families (YAML in ``scenes/``) and seeded sampling of clean ScenePlans."""

from __future__ import annotations

import math

import numpy as np

from robostress.core.colour import PALETTE, lab, linear_to_srgb8
from robostress.errors import LayoutError
from robostress.scene.assets import (
    AssetCatalog,
    asset_catalog,
    asset_spec,
    load_asset,
    texture_mean_rgb,
)
from robostress.scene.camera import project
from robostress.scene.catalogue import asset_material, is_carrier, small_footprint
from robostress.scene.collision import robot_collides
from robostress.scene.family import (
    SURFACES,
    FamilySpec,
    ScenerySpec,
    SupportSpec,
    environment_name,
    family_catalog,
    load_family,
    with_environment,
)
from robostress.scene.objects import get_category, world_extent
from robostress.scene.placement import MARGIN, clears_above, contain_one, stack_one
from robostress.scene.plan import (
    Camera,
    Gripper,
    Light,
    Material,
    Robot,
    Room,
    SceneObject,
    ScenePlan,
    Scenery,
    Support,
)
from robostress.scene.robot import fingertip_center, solve_reach
from robostress.scene.visibility import must_see, targets_hidden, targets_in_view
from robostress.seeding import latin_draw, rng

ATTEMPTS = 200
LAYOUTS, CAMERAS = 200, 40  # layouts tried (the first that works is kept: 40 left scene 53 of the standard seed without one); hover points tried for the robot


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

    cat = family_catalog(spec)
    k = len(spec.categories)
    start = index * spec.object_count[0]  # consecutive scenes overlap, never leave a gap
    cats = [spec.categories[int(rng(seed, spec.name, "categories", (start + j) // k).permutation(k)[(start + j) % k])]
            for j in range(n)]  # a fresh permutation for every pass over the categories
    by_cat = {c: sorted(a for a, s in cat.assets.items() if s.category == c) for c in cats}
    picks = [str(g.choice(by_cat[c])) for c in cats]
    m = latin_draw(spec.multiples, index, seed, spec.name, "multiples")
    if m > 1:  # one small category present m times: its copies are added last

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
    if spec.extra_assets:  # (no draw in families without: the lab's scenes stay as they were)
        _one_large(spec, g, cat, cats, picks)
        state = latin_draw(("open", "closed"), index, seed, spec.name, "state")
        picks[:] = [_in_state(cat, a, state) for a in picks]
    if spec.require_stack and not any(is_carrier(a) for a in picks):  # something large enough to stack on
        j = 1 if cats.count(cats[0]) > 1 else len(cats) - 1  # not one of a category's several instances
        carriers = sorted(a for a, s in cat.assets.items() if s.category in spec.categories and is_carrier(a)
                          and s.category not in cats)
        picks[j] = str(carriers[int(g.integers(len(carriers)))])
        cats[j] = cat.assets[picks[j]].category
    if spec.featured_colour:
        cats, picks = _feature_colour(spec, g, cats, picks, index, seed)
    return [(c, a, asset_material(a)) for c, a in zip(cats, picks, strict=True)]


ARTICULATED_YAW = 40.0  # deg: an articulated object's front turns at most this far from facing -y


def articulated(asset_id: str) -> bool:
    """Whether a real asset is an articulated object posed open or closed (its ``state``)."""
    return getattr(asset_spec(asset_id), "state", None) is not None


def _in_state(cat: AssetCatalog, asset_id: str, state: str) -> str:
    """The open or closed twin of an articulated asset (the same MJCF posed otherwise); any other
    asset as it is. A Latin square over scene index draws the state, so articulated objects are
    open and closed about equally often."""
    spec = cat.assets[asset_id]
    if getattr(spec, "state", None) in (None, state):
        return asset_id
    return next(a for a, s in sorted(cat.assets.items()) if s.xml == spec.xml and getattr(s, "state", None) == state)


LARGE_FOOTPRINT = 0.03  # m^2: a cabinet, a shelf, a mini fridge; two or three of them leave no room


def _one_large(spec: FamilySpec, g: np.random.Generator, cat: AssetCatalog, cats: list[str], picks: list[str]) -> None:
    """At most one large object a scene (in place): each further one becomes a smaller object of a
    category not yet in the scene (the extra catalog's cabinets, shelves and fridge cover 0.04 m^2
    each; three of them with six more objects did not fit a lab table in 200 layouts)."""
    def large(a: str) -> bool:
        s = load_asset(a).size
        return s[0] * s[1] >= LARGE_FOOTPRINT

    for j in [j for j, a in enumerate(picks) if large(a)][1:]:
        small = sorted(a for a, s in cat.assets.items()
                       if s.category in spec.categories and s.category not in cats and not large(a))
        if small:
            picks[j] = small[int(g.integers(len(small)))]
            cats[j] = cat.assets[picks[j]].category


def featurable_assets(spec: FamilySpec) -> list[str]:
    """Real assets that could be a family's featured object (sorted ids): of its categories, with
    a colour name, standing out from its first support (a featured object must be able to be a
    target)."""
    return [a for a, s in sorted(asset_catalog().assets.items())
            if s.category in spec.categories and s.color and _stands_out(spec, a)]


def family_colours(spec: FamilySpec) -> list[str]:
    """Colour names of the family's featurable assets (``featurable_assets``)."""
    cat = asset_catalog()
    return sorted({str(cat.assets[a].color) for a in featurable_assets(spec)})


def _stands_out(spec: FamilySpec, asset_id: str) -> bool:
    return _contrast(spec, asset_material(asset_id).rgb) >= TARGET_CONTRAST


def _feature_colour(spec: FamilySpec, g: np.random.Generator, cats: list[str], picks: list[str],
                    index: int, seed: int) -> tuple[list[str], list[str]]:
    """Move an object of the scene's drawn colour to the front (it becomes the first target):
    one already drawn, else a same-category asset of that colour swapped in, else one more object
    of a category that has such an asset. Carriers and a category's several instances stay."""
    cat = asset_catalog()
    want = latin_draw(family_colours(spec), index, seed, spec.name, "colour")
    ok = [a for a in featurable_assets(spec) if cat.assets[a].color == want]
    j = next((i for i, a in enumerate(picks) if a in ok), None)
    if j is None:
        need_carrier = spec.require_stack and sum(map(is_carrier, picks)) == 1
        free = [i for i, c in enumerate(cats) if cats.count(c) == 1 and not (need_carrier and is_carrier(picks[i]))]
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
                f = g.uniform(1 - spec.size_jitter, 1 + spec.size_jitter)
                size = tuple(float(s * f) for s in load_asset(asset).size)
            wx = min(spec.workspace[0], sup.size[0]) / 2
            wy = min(spec.workspace[1], sup.size[1]) / 2
            x = sup.center[0] + g.uniform(-wx, wx)
            y = sup.center[1] + g.uniform(-wy, wy)
            yaw = g.uniform(0, 360)
            if asset is not None and articulated(asset):  # its drawers or door toward the cameras (-y)
                yaw = (yaw - 180.0) * ARTICULATED_YAW / 180.0
            obj = SceneObject(id=f"obj{k:02d}", category=cat.name, material=material, asset=asset,
                              position=(float(x), float(y), sup.center[2]), yaw_deg=float(yaw),
                              tipped=bool(cat.can_tip and g.random() < spec.tipped_prob), size=size,  # type: ignore[arg-type]
                              support_id=sup.id)
            (cx, cy), r, _, zmax = world_extent(obj)
            inside = (abs(cx - sup.center[0]) + r < sup.size[0] / 2 - MARGIN
                      and abs(cy - sup.center[1]) + r < sup.size[1] / 2 - MARGIN)
            free = all(s != sup.id or math.hypot(cx - px, cy - py) > r + pr + MARGIN
                       for s, px, py, pr in placed)
            if inside and free and clears_above(spec, sup.id, cx, cy, r, zmax):
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
    def lab_of(c: tuple[float, float, float]) -> np.ndarray:
        return lab(linear_to_srgb8(np.asarray(c)))

    return float(np.linalg.norm(lab_of(rgb) - lab_of(_support(spec.supports[0]).material.rgb)))


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


def _robot(spec: FamilySpec, g: np.random.Generator, objects: list[SceneObject],
           targets: list[str], cam: Camera) -> tuple[Robot | None, Gripper | None]:
    """A collision-free arm pose, the gripper hovering in view over the workspace, not over a target."""
    rs = spec.robot
    if rs is None:
        return None, None

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
                  target=spec.supports[0].center, size=kl.size, intensity=kl.intensity, color=kl.color),
            Light(id="ambient", kind="ambient", role="ambient", intensity=spec.ambient_intensity,
                  color=spec.ambient_color))


def _scenery(s: ScenerySpec) -> Scenery:
    material = _surface(s.color, s.texture, s.uv_scale) if s.kind == "box" else None
    return Scenery(id=s.id, kind=s.kind, asset=s.asset, position=s.position, yaw_deg=s.yaw_deg,
                   scale=s.scale, size=s.size, material=material)


def scene_spec(family: str | FamilySpec, seed: int, index: int) -> FamilySpec:
    """The family a scene is sampled from: a multi-environment family with the environment scene
    ``index`` draws (each of its environments once in every run of that many scenes)."""
    spec = load_family(family) if isinstance(family, str) else family
    if not spec.environments:
        return spec
    env = latin_draw(spec.environments, index, seed, spec.name, "environment")
    return with_environment(spec, load_family(env))


def scene_id(family: str, seed: int, index: int) -> str:
    """The id of scene ``index`` of a family and seed (what ``sample_scene`` names it)."""
    return f"{family}-{seed}-{index:04d}"


def sample_scene(family: str | FamilySpec, seed: int, index: int = 0) -> ScenePlan:
    """A clean scene of ``family``, fully determined by (family, seed, index)."""
    spec = scene_spec(family, seed, index)
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
        if not targets_in_view(cam, objects, targets):
            continue
        objects = [o.model_copy(update={"role": "target"}) if o.id in targets else o for o in objects]
        if spec.stack_prob and g.random() < spec.stack_prob:
            stacked = stack_one(g, objects)
            if spec.require_stack and stacked is objects:
                continue  # no object fits on another in this layout: lay it out again
            if not targets_in_view(cam, stacked, must_see(stacked, targets) if spec.real_assets else targets):
                continue
            objects = stacked
        elif spec.real_assets and not targets_in_view(cam, objects, must_see(objects, targets)):
            continue
        if spec.contain_prob and g.random() < spec.contain_prob:  # (no draw in families without)
            contained = contain_one(g, objects, cam)
            if contained is not objects and not targets_in_view(cam, contained, must_see(contained, targets)):
                continue
            objects = contained
        if targets_hidden(cam, objects, must_see(objects, targets) if spec.real_assets else targets):
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
    env = spec.environment
    return ScenePlan(scene_id=scene_id(spec.name, seed, index), family=spec.name, seed=seed, room=room,
                     supports=supports, objects=tuple(objects), lights=lights, camera=cam,
                     gripper=gripper, robot=robot, targets=tuple(targets), environment=environment_name(spec),
                     scenery=tuple(_scenery(s) for s in env.scenery) if env is not None and env.scenery else None)
