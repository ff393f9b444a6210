"""Shared machinery of the question generators: specs, the registry, and one frame's context.

A *question type* (registered by name in ``QUESTION_TYPES``) proposes questions on a scene's
clean twin and computes their truth on any frame of the scene. Truth raises ``Drop`` when the
frame makes the question undefined (an object that can no longer be seen or named, a truth
that became ambiguous); the reason is recorded.

Visibility rules (why a referred-to object makes a question undefined):

* less than ``MIN_VISIBLE_SHARE`` of its whole silhouette (occlusion and frame cut together)
  is visible, or fewer than ``MIN_VISIBLE_PX`` pixels: nothing is left to answer from. A partly
  visible object is kept: hard is fine, undefined is not;
* grounding only: more than ``MAX_OUT_OF_FRAME`` of its silhouette is out of the frame (the box
  of the visible part would no longer describe the object);
* its name no longer singles it out: another object now has the same colour and category.

An object keeps its name (catalogue colour and category) under a material stress: finding
'the red mug' once it is dark, glass or blended into the table, by what is left of its colour
and by elimination, is what that stress tests. Only questions *about* its colour (its colour,
its category asked by colour, whether a red mug exists) become undefined and are dropped. A
printed texture (``complex_texture``) keeps the colour defined while its own colour still
covers most of the object (second colour on less than ``MAX_PRINT_SHARE`` of its cells: the
others show the albedo itself, so it reads as its colour with a pattern). The print's colour
must not name it either: a question whose colour word is that colour ('the green one', 'is
there a green mug') is dropped.

On the clean twin, questions are only asked about objects at least ``COMFORT_SHARE`` visible,
so that clean questions are fair and stresses, not the layout, make them hard.

Balance (why a text-only model stays at chance): a question type draws the *truth value* it
will ask about first (``Slots.draw``) and then builds the question to match (which object,
which order of the pair, which destination), and the correct letter is drawn the same way.
``Slots`` hands out values from seeded permutations laid out as a Latin square over (scene
ordinal, k-th question of the type in the scene): each value comes up once in every run of
``n`` consecutive scenes and once in every ``n`` questions of a type within a scene, so value
and letter shares stay uniform even over a handful of scenes.

What the generator cannot balance alone, the scenes must supply (measured by
``robostress.evaluate.leakage``; the ``prior`` baseline shows what is left):

* ``on``: objects resting on objects (stacks, on books and other flat tops), objects inside
  containers and objects on every support, so that 'what is X resting on or in?' is not always
  'the table';
* ``goal`` and ``next_action``: the same stacks, so that 'put X on <an object>' is sometimes
  already done (today an object destination always means 'no' / 'pick up X'), and with them
  the 'clear the top' answers; scenes with two supports (kitchen_shelf) already balance the
  support destinations;
* ``count``: a category present two and three times on a support as often as once;
* ``upright``: a tipped object in more scenes (asked only where a scene has both states);
* ``clear`` and ``move_first``: stacks at all (asked only in scenes that hold one).

Wrong options are drawn the way the answer comes about, so that an option's kind says nothing:
'what is X resting on or in?' offers kinds X would fit on or in (as the one it rests on), and
'what must move first?' objects that would fit on X (as the one on top; catalogue objects not in
the scene when fewer than three are); 'which of these is closest?' draws its answer first among
objects with three clearly farther (were the options drawn first, the answer would nearly always
be the object nearest of all, and which kinds end up nearest would show).

Containers (``robostress.scene.containers``; lab scenes with ``contain_prob``) supply an object
*inside* a frying pan or basket: the stack relation (its ``support_id`` is the container, its base
on the container's measured inner floor; ``FrameContext.inside`` tells it from a stack on a top).
``on`` then answers 'a frying pan' (the question asks what X rests *on or in*; container kinds are
offered as wrong answers too, so the kind does not give the truth away) and ``move_first`` 'the
milk carton' for 'pick up the basket', with no change to the planner. Phrasings that say 'on
top of' stay about stacks: ``clear`` does not ask about a container that holds something, and
goal and next-action questions are drawn over a stack on a top (``the_stack``), never over a
container's content.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from robostress.registry import Registry
from robostress.render.frame import Frame, FrameArrays, ObjectGT
from robostress.scene.camera import project
from robostress.scene.objects import world_extent
from robostress.scene.plan import SceneObject, ScenePlan

if TYPE_CHECKING:
    from robostress.questions.acceptance import Record
    from robostress.scene.family import FamilySpec
from robostress.core.colour import PALETTE
from robostress.errors import ConfigError
from robostress.scene.assets import AssetCatalog, asset_catalog
from robostress.scene.containers import inside
from robostress.scene.family import family_catalog, load_family
from robostress.seeding import derive_seed, rng

MIN_VISIBLE_PX = 6
MIN_VISIBLE_SHARE = 0.02
MIN_CONTRAST = 3.0  # CIELAB delta E to the surround below which a referent cannot be told apart (JND ~2.3)
MAX_OUT_OF_FRAME = 0.5
MAX_PRINT_SHARE = 0.5  # a print's second colour on this share of an object or more: no single colour
COMFORT_SHARE = 0.25
SCENERY_ROLES = ("occluder",)  # panels added by a stress: not objects questions talk about


@dataclass(frozen=True)
class QuestionSpec:
    """A question chosen on the clean twin; identical on every frame of the scene."""

    key: str  # stable id within the scene, e.g. 'recognition/color/obj03'
    ability: str
    qtype: str
    format: str  # 'mc', 'box' or 'point'
    question: str
    options: tuple[str, ...] = ()  # multiple choice only, in their final (balanced) order
    subjects: tuple[str, ...] = ()  # entity ids the question names
    params: Mapping[str, Any] = field(default_factory=dict)  # what truth needs beyond subjects


@dataclass(frozen=True)
class Slots:
    """Balanced draws of one scene: value ``k`` of a type's ``n`` possible values, by Latin square."""

    seed: int  # the benchmark's question seed
    ordinal: int  # the scene's position in its benchmark (or a stable hash of its id)

    @classmethod
    def of(cls, seed: int, scene_id: str, ordinal: int | None = None) -> Slots:
        """Slots of a scene; without its ordinal, a stable hash of its id stands in (balance
        within the scene stays exact, across scenes it is then only random)."""
        return cls(int(seed), derive_seed(seed, scene_id, "ordinal") if ordinal is None else int(ordinal))

    def draw(self, purpose: str, k: int, n: int) -> int:
        """The slot (0..n-1) of the ``k``-th draw for ``purpose`` (e.g. 'letter/left_right')."""
        block = rng(self.seed, "slots", purpose, n, self.ordinal // n).permutation(n)
        return int(block[(self.ordinal + k) % n])


class Drop(Exception):
    """The question is undefined on this frame; the message is the recorded reason."""


class QuestionType:
    """One kind of question: proposes specs on the clean twin, computes truth on any frame."""

    name: ClassVar[str]
    ability: ClassVar[str]
    format: ClassVar[str] = "mc"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        """Questions about the clean frame ``ctx`` (their options in any order)."""
        raise NotImplementedError

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> Any:
        """The correct option text (mc) or the truth dict (box, point) on ``ctx``; may Drop."""
        raise NotImplementedError

    def spec(self, key: str, question: str, options: tuple[str, ...] = (),
             subjects: tuple[str, ...] = (), **params: Any) -> QuestionSpec:
        """A spec of this type; ``key`` is prefixed with the ability and type name."""
        return QuestionSpec(f"{self.ability}/{self.name}/{key}".rstrip("/"), self.ability, self.name,
                            self.format, question, options, subjects, params)

    def defined(self, spec: QuestionSpec, ctx: FrameContext) -> bool:
        """Whether the truth of ``spec`` is defined on ``ctx``."""
        try:
            self.truth(spec, ctx)
        except Drop:
            return False
        return True

    def acceptance_key(self, spec: QuestionSpec, ctx: FrameContext, truth: str) -> Record | None:
        """What a question of a type kept by fitted acceptance shows (``robostress.questions.
        acceptance``), its options in proposal order; None: the type keeps every question."""
        return None

    def first_defined(self, specs: list[QuestionSpec], ctx: FrameContext) -> list[QuestionSpec]:
        """The first candidate whose truth is defined on ``ctx`` (none if none is)."""
        return next(([s] for s in specs if self.defined(s, ctx)), [])


QUESTION_TYPES: Registry[QuestionType] = Registry("question type")


def register(cls: type[QuestionType]) -> type[QuestionType]:
    """Class decorator registering a question type under its ``name``."""
    QUESTION_TYPES.add(cls.name, cls())
    return cls


def family_spec(family: str) -> FamilySpec | None:
    """The scene family a plan was sampled from (None for a hand-built plan of no known family)."""
    try:
        return load_family(family)
    except ConfigError:
        return None


def family_assets(family: str) -> AssetCatalog:
    """The real-asset catalog a plan's family draws from (``family_catalog``: the object catalog,
    with the extra catalog's for a family that sets ``extra_assets``): what the pools of wrong
    answers enumerate, so that a household question can offer a household category. A hand-built
    plan of no known family gets the object catalog, as every plan did before (issue 24)."""
    spec = family_spec(family)
    return asset_catalog() if spec is None else family_catalog(spec)


def desc(o: SceneObject) -> str:
    """How questions name an object: colour and category, or the category alone for an object
    with no single colour (unique in a clean scene)."""
    if not has_colour_name(o):
        return f"the {o.category}"
    return f"the {o.material.color_name} {o.category}"


def has_colour_name(o: SceneObject) -> bool:
    """Whether the object has one dominant, nameable colour (real objects may not)."""
    return o.material.color_name in PALETTE


def nearest_palette_name(rgb: tuple[float, float, float]) -> str:
    """Name of the palette colour closest to a linear albedo (log-space distance)."""
    x = np.log(np.asarray(rgb) + 0.01)
    return min(PALETTE, key=lambda k: float(np.sum((np.log(np.asarray(PALETTE[k]) + 0.01) - x) ** 2)))


def print_colour(o: SceneObject) -> str | None:
    """Palette name of the second colour an object is printed with, if a print shows one."""
    t = o.material.texture
    if t is None or t.share == 0 or t.contrast < 0.5 or max(t.rgb2) < 0.05:  # none, or a darker shade
        return None
    return nearest_palette_name(t.rgb2)


def colour_undefined(o: SceneObject) -> str | None:
    """Why an object no longer has the colour its name says, or None if it still has it."""
    m = o.material
    if not has_colour_name(o):
        return "it has no single dominant colour"
    if m.transmission >= 0.5:
        return f"it is glass (transmission {m.transmission:g})"
    if m.texture is not None and m.texture.share >= MAX_PRINT_SHARE:
        return f"a {m.texture.kind} texture covers {100 * m.texture.share:.0f}% of it with a second colour"
    seen = nearest_palette_name(m.effective_rgb())  # a print's own cells keep the albedo itself
    if m.texture_map is not None:  # a real object's catalogue colour is not its mean albedo's nearest:
        base = nearest_palette_name(m.rgb)  # what counts is whether a stress moved it
        return None if seen == base else f"its mean albedo is now nearest to {seen} (was {base})"
    return None if seen == m.color_name else f"its albedo is now nearest to {seen}"


@dataclass
class FrameContext:
    """A frame with the plan it rendered and its ground truth; what truth functions read."""

    plan: ScenePlan
    frame: Frame
    arrays: FrameArrays | None = None
    slots: Slots = field(default_factory=lambda: Slots(0, 0))  # balanced draws (proposing only)

    def draw(self, purpose: str, k: int, values: list[Any]) -> Any:
        """The ``k``-th balanced draw among ``values`` (a fixed list) for ``purpose``."""
        return values[self.slots.draw(purpose, k, len(values))]

    @cached_property
    def _gt(self) -> dict[str, ObjectGT]:
        return {o.id: o for o in self.frame.objects}

    @cached_property
    def _objects(self) -> dict[str, SceneObject]:
        return {o.id: o for o in self.plan.objects}

    @cached_property
    def _numbers(self) -> dict[str, int]:
        return {v: int(k) for k, v in self.frame.id_map.items()}

    def obj(self, oid: str) -> SceneObject:
        """The object ``oid`` of this frame's plan."""
        return self._objects[oid]

    def is_object(self, eid: str) -> bool:
        """Whether ``eid`` is an object (not a support) of this plan."""
        return eid in self._objects

    def things(self) -> list[SceneObject]:
        """Objects questions may talk about (stress scenery such as occluder panels excluded)."""
        return [o for o in self.plan.objects if o.role not in SCENERY_ROLES]

    def number(self, entity_id: str) -> int:
        """Instance number of an entity in this frame's masks (0 if absent)."""
        return self._numbers.get(entity_id, 0)

    def gt(self, oid: str) -> ObjectGT | None:
        """This frame's ground truth of an object (None if it has none)."""
        return self._gt.get(oid)

    def share(self, oid: str) -> float:
        """Visible share of an object's whole silhouette (occlusion and frame cut)."""
        gt = self._gt.get(oid)
        return gt.visible_px / gt.amodal_total_px if gt and gt.amodal_total_px else 0.0

    def comfortable(self, oid: str) -> bool:
        """Whether an object is visible enough to ask about on the clean twin."""
        gt = self._gt.get(oid)
        return bool(gt and gt.visible_px >= 2 * MIN_VISIBLE_PX and self.share(oid) >= COMFORT_SHARE)

    def check_visible(self, oid: str, grounding: bool = False) -> None:
        """Drop unless the object can still be seen (and, for grounding, is mostly in frame)."""
        gt = self._gt.get(oid)
        name = desc(self.obj(oid))
        if gt is None or gt.visible_px < MIN_VISIBLE_PX or self.share(oid) < MIN_VISIBLE_SHARE:
            px = gt.visible_px if gt else 0
            raise Drop(f"{name} is {100 * self.share(oid):.1f}% visible ({px} px): occluded or out of frame")
        if grounding and gt.out_of_frame_fraction > MAX_OUT_OF_FRAME:
            raise Drop(f"{name} is {100 * gt.out_of_frame_fraction:.0f}% out of frame")
        if gt.contrast is not None and gt.contrast < MIN_CONTRAST:
            raise Drop(f"{name} is photometrically invisible: mean delta E {gt.contrast:.1f} to its "
                       f"surround (< {MIN_CONTRAST:g}); unanswerable from the image")

    def visible(self, oid: str, grounding: bool = False) -> bool:
        """Whether ``check_visible`` passes."""
        try:
            self.check_visible(oid, grounding)
        except Drop:
            return False
        return True

    def named_apart(self, oid: str) -> bool:
        """Whether the object's name (colour and category) is its alone in this frame."""
        o = self.obj(oid)
        return not any(x.category == o.category and x.material.color_name == o.material.color_name
                       for x in self.things() if x.id != oid)

    def refer(self, oid: str, grounding: bool = False) -> str:
        """The object's name after checking it is visible and still names only this object."""
        self.check_visible(oid, grounding)
        if not self.named_apart(oid):
            raise Drop(f"'{desc(self.obj(oid))}' now names more than one object")
        return desc(self.obj(oid))

    def centre(self, oid: str) -> np.ndarray:
        """World centre of an object's bounding cylinder."""
        (cx, cy), _, z0, z1 = world_extent(self.obj(oid))
        return np.array([cx, cy, (z0 + z1) / 2])

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates (N, 2) and camera depth (N,) of world points in this frame."""
        return project(self.plan.camera, np.atleast_2d(points), self.frame.width, self.frame.height)

    def image_x(self, oid: str) -> float:
        """Horizontal image coordinate (pixels, growing to the right) of an object's centre."""
        return float(self.project(self.centre(oid))[0][0, 0])

    def camera_distance(self, oid: str) -> float:
        """Euclidean distance (metres) from the camera to an object's centre."""
        return float(np.linalg.norm(self.centre(oid) - np.asarray(self.plan.camera.position)))

    def above(self, eid: str) -> list[SceneObject]:
        """Objects (scenery excluded) resting directly on an entity."""
        return [o for o in self.things() if o.support_id == eid]

    def inside(self, oid: str) -> bool:
        """Whether an object rests inside the object it is on (a container), not on its top."""
        o = self.obj(oid)
        return self.is_object(o.support_id) and inside(o, self.obj(o.support_id))

    def holds(self, eid: str) -> bool:
        """Whether something rests inside the entity (a container with something in it)."""
        return any(self.inside(o.id) for o in self.above(eid))

    def root_support(self, oid: str) -> str:
        """The support at the bottom of an object's stack."""
        cur = self.obj(oid)
        for _ in range(len(self._objects) + 1):
            if cur.support_id not in self._objects:
                return cur.support_id
            cur = self._objects[cur.support_id]
        raise Drop(f"{oid} rests on a cycle of objects")

    def name(self, eid: str) -> str:
        """'the table' for a support, the object's name otherwise (no checks)."""
        return desc(self.obj(eid)) if self.is_object(eid) else f"the {self.plan.support(eid).kind}"
