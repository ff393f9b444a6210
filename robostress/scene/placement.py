"""Placing objects on, in and beside each other: stacks, containment and what fits on a top."""

from __future__ import annotations

from collections import Counter

import numpy as np

from robostress.scene.camera import Camera
from robostress.scene.catalogue import carries, small_footprint
from robostress.scene.containers import below_rim, fit_inside, is_container
from robostress.scene.family import FamilySpec
from robostress.scene.objects import get_category, world_extent
from robostress.scene.plan import SceneObject

MARGIN = 0.012  # metres between footprints
STACK_OVERHANG = 1.1  # an object may rest on a flat top whose footprint, scaled by this, contains its own


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


def stack_one(g: np.random.Generator, objects: list[SceneObject]) -> list[SceneObject]:
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


def contain_one(g: np.random.Generator, objects: list[SceneObject], cam: Camera) -> list[SceneObject]:
    """Put one object inside a container (clean scenes with containment: 'on' answers 'a basket',
    and the container cannot be picked up before its content is moved). The container is drawn
    first (uniform over the free, upright containers that something fits in), then the object:
    a free, small object of a kind stacks are not built on, whose footprint fits the opening
    and whose top the camera sees over the rim (one that questions can name apart from its
    twins, if there is one). Stack objects stay where they are. Returns the list unchanged if
    nothing fits."""
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
        placed = [b for b in placed if not below_rim(cam, top_centre(b), a).any()]
        if placed:
            fits[a.id] = [b for b in placed if named(b)] or placed
    if any(named(b) for v in fits.values() for b in v):
        fits = {k: v for k, v in fits.items() if any(named(b) for b in v)}
    if not fits:
        return objects
    box = sorted(fits)[int(g.integers(len(fits)))]
    moved = fits[box][int(g.integers(len(fits[box])))]
    return [moved if o.id == moved.id else o for o in objects]


def top_centre(o: SceneObject) -> np.ndarray:
    (cx, cy), _, _, z1 = world_extent(o)
    return np.array([cx, cy, z1])


def clears_above(spec: FamilySpec, sup_id: str, cx: float, cy: float, r: float, zmax: float) -> bool:
    """An object under a higher support (e.g. below a shelf) must fit beneath it."""
    top = next(s.center[2] for s in spec.supports if s.id == sup_id)
    for s in spec.supports:
        if s.center[2] <= top:
            continue
        under = abs(cx - s.center[0]) < s.size[0] / 2 + r and abs(cy - s.center[1]) < s.size[1] / 2 + r
        if under and zmax > s.center[2] - s.thickness - 0.02:
            return False
    return True
