"""Spatial relations: left/right and left-to-right order in the image, closer to the camera,
what an object rests on, and which object is nearest to the gripper (or to a named object).

Image relations come from projecting the objects' 3D centres with the frame's camera (the
Mitsuba pinhole model of ``robostress.scene.camera``), so a viewpoint stress that rolls or
swings the camera changes them exactly. A relation closer than its margin is ambiguous and the
question is dropped on that frame.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from robostress.questions import templates as T
from robostress.questions.acceptance import Record, kind_of
from robostress.questions.base import (
    Drop,
    FrameContext,
    QuestionSpec,
    QuestionType,
    desc,
    family_assets,
    family_spec,
    register,
)
from robostress.questions.weighting import Draw, Sample, option_weights, weighted_order
from robostress.scene.catalogue import catalogue_objects, small_footprint
from robostress.scene.containers import can_hold, fit_inside, is_container
from robostress.scene.objects import CATEGORIES, get_category, world_extent
from robostress.scene.placement import fits_on
from robostress.scene.plan import SceneObject

IMAGE_MARGIN = 0.04  # of the image width: closer horizontally is neither left nor right
DEPTH_MARGIN = 0.04  # metres: closer in distance to the camera is neither nearer nor farther
NEAREST_MARGIN = 0.03  # metres between the nearest and the second nearest option
NEAREST_MAX_RADIUS = 0.15  # metres: wider objects (a frying pan with its handle) are not nearest options or references
NEAREST_CHOICE = 3  # objects clearly farther than the answer, of which three are offered (4 lets the weights always choose, but loses 39 % of the questions)
TRIES = 8  # candidate subject sets tried on the clean twin before giving up


def _seen(ctx: FrameContext, but: tuple[str, ...] = ()) -> list[SceneObject]:
    return [o for o in ctx.things() if ctx.comfortable(o.id) and o.id not in but]


def _draw(g: np.random.Generator, pool: list[SceneObject], k: int) -> list[list[SceneObject]]:
    """Up to TRIES random k-subsets of ``pool``, each in random order."""
    if len(pool) < k:
        return []
    return [[pool[i] for i in g.permutation(len(pool))[:k]] for _ in range(TRIES)]


class _Pairwise(QuestionType):
    """A relation between each target and one other object (each unordered pair asked once).

    The truth is drawn first (the first or the second of the two canonical options: 'to the
    left' or 'to the right', the first-named or the second-named object) and the pair is put
    in the order that makes it true, so the order of the names says nothing about the answer.
    """

    def make(self, ctx: FrameContext, a: str, b: str) -> QuestionSpec:
        raise NotImplementedError

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        out: list[QuestionSpec] = []
        for t in ctx.plan.targets:
            if ctx.comfortable(t):
                want = ctx.draw(f"value/{self.name}", len(out), [0, 1])
                asked = {frozenset(s.subjects) for s in out}
                pairs = [o[0].id for o in _draw(g, _seen(ctx, (t,)), 1)]
                cands = [c for o in pairs for c in (self.make(ctx, t, o), self.make(ctx, o, t))
                         if frozenset(c.subjects) not in asked]
                out += [c for c in cands if self.defined(c, ctx)
                        and c.options.index(self.truth(c, ctx)) == want][:1]
        return out


@register
class LeftRight(_Pairwise):
    """'In the image, is the red mug to the left or to the right of the blue box?'"""

    name, ability = "left_right", "spatial"

    def make(self, ctx: FrameContext, a: str, b: str) -> QuestionSpec:
        q = T.question("left_right", a=desc(ctx.obj(a)), b=desc(ctx.obj(b)))
        return self.spec(f"{a}/{b}", q, (T.LEFT, T.RIGHT), (a, b))

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        a, b = spec.subjects
        ctx.refer(a)
        ctx.refer(b)
        dx = ctx.image_x(a) - ctx.image_x(b)
        if abs(dx) < IMAGE_MARGIN * ctx.frame.width:
            raise Drop("the two objects are too close horizontally to tell left from right")
        return T.LEFT if dx < 0 else T.RIGHT


@register
class FrontBehind(_Pairwise):
    """'Which is closer to the camera: the red mug or the blue box?'"""

    name, ability = "front_behind", "spatial"

    def make(self, ctx: FrameContext, a: str, b: str) -> QuestionSpec:
        na, nb = desc(ctx.obj(a)), desc(ctx.obj(b))
        return self.spec(f"{a}/{b}", T.question("front_behind", a=na, b=nb), (na, nb), (a, b))

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        a, b = spec.subjects
        na, nb = ctx.refer(a), ctx.refer(b)
        dd = ctx.camera_distance(a) - ctx.camera_distance(b)
        dz = ctx.project(ctx.centre(a))[1][0] - ctx.project(ctx.centre(b))[1][0]
        if abs(dd) < DEPTH_MARGIN or dd * dz <= 0:  # distance and depth must agree
            raise Drop("the two objects are nearly equally far from the camera")
        return na if dd < 0 else nb


def _object_slots(n_supports: int) -> int:
    """Of the values an 'on' question's truth is drawn over (each support once, then 'an
    object'), how many are 'an object': the rest of four, at least one."""
    return max(4 - n_supports, 1)


@dataclass(frozen=True)
class OnChoice:
    """What an 'on' question asks about, before its wrong options are drawn."""

    subject: str  # object id
    truth: str  # the option text of what it rests on ('the table', 'a book')
    truth_kind: str | None  # the category it rests on (None: a support)
    supports: tuple[str, ...]  # 'the <kind>' of every support: always offered
    size: int  # number of options
    fitting: tuple[str, ...]  # categories (not the truth's) the subject would fit on or in: wrong kinds first
    rest: tuple[tuple[str, ...], ...]  # then these categories, in turn, should too few fit

    @property
    def wrong(self) -> int:
        """Wrong object kinds the question offers."""
        return self.size - len({self.truth, *self.supports})

    @property
    def side(self) -> str:
        """The weights' prefix: questions whose truth is a support and those whose truth is an
        object draw their wrong kinds with weights of their own."""
        return "support:" if self.truth_kind is None else "object:"

    def sample(self) -> Sample:
        """The draw this question makes, for calibration: its wrong kinds by weight, or, when no
        more fit than there are slots, all of them and the fillers of ``rest`` uniformly.

        Each time a kind is the truth, it should be offered ``size - 1`` more times as a wrong
        kind, so that it is the truth of one in ``size`` questions offering it, and split between
        the two sides in proportion to their wrong slots, so that a support is the truth of as
        many of those questions as on average: a kind offered mostly where the truth is the table
        (a large box that fits under everything, where the subject rests on a small box) would
        otherwise point at the table. On a one-support table that is one offer where the truth is
        the table and two where it is another object."""
        n_sup = len(self.supports)
        p_sup = n_sup / (n_sup + _object_slots(n_sup))  # the value is drawn a support this often
        slots = {"support:": p_sup * (self.size - n_sup), "object:": (1 - p_sup) * (self.size - n_sup - 1)}
        total = sum(slots.values())
        target = ({f"{side}{self.truth_kind}": (self.size - 1) * n / total for side, n in slots.items()}
                  if self.truth_kind else {})
        fitting = tuple(self.side + k for k in self.fitting)
        if len(fitting) > self.wrong:
            return Sample(Draw(fitting, self.wrong), target)
        fixed = dict.fromkeys(fitting, 1.0)
        left = self.wrong - len(fitting)
        for grp in self.rest:  # uniform fillers: each of a group's L kinds offered with chance min(1, left / L)
            cands = [self.side + k for k in grp if self.side + k not in fixed and k != self.truth_kind]
            if left <= 0 or not cands:
                continue
            fixed.update(dict.fromkeys(cands, min(1.0, left / len(cands))))
            left -= len(cands)
        return Sample(None, target, fixed)


@register
class RestingOn(QuestionType):
    """'What is the red mug resting on or in?' (a support, or any object of a category: 'a book',
    'a basket')."""

    name, ability = "on", "spatial"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        """One question per scene. What its subject rests on is drawn first: each support once and
        an object (if the scene has a stack or an object in a container) for the remaining slots of
        four (on a one-support table: an object three times in four, as the options are one support
        and three object kinds). A subject must fit on or in at least two more kinds than there
        are wrong options (if none of the drawn value does, one that fills the wrong slots is
        asked rather than another value, which would unbalance the values): an object too large to rest on anything but a plate, a book or a
        storage box rests on the table far more often than on one of them, and its option set,
        always those same kinds, gave that away (the table was the answer 11 times in the 19
        train questions offering the frying pan, plate and storage box). In families with stacks, a
        subject resting on a support is one small enough to top a stack, as every subject resting
        on an object is: a large one would show its answer by the large kinds it fits on. The wrong object kinds
        are kinds of flat-topped objects and containers the subject would fit on or in (as the
        object it rests on does: a butter box offered under a mug it could never carry would
        never be right), from the scene and the catalogue, each drawn with a weight calibrated on the train split so that every kind is
        offered (number of options) times as often as it is the truth (``option_weights``,
        ``robostress.evaluate.calibrate``). Drawn uniformly, the large boxes and plates that fit
        under everything were offered far more often than they carry something, and a text-only
        model picked the small boxes whenever they were offered (33 % right against 25 %). A value
        the scene cannot offer falls back to one it can."""
        c = self.choose(ctx, g)
        if c is None:
            return []
        weights = option_weights(ctx.plan.family, self.name)
        wrong = [T.indefinite(c.fitting[i]) for i in weighted_order(g, [c.side + k for k in c.fitting], weights)]
        for grp in c.rest:
            left = sorted({T.indefinite(k) for k in grp} - set(wrong) - {c.truth})
            wrong += [left[i] for i in g.permutation(len(left))]
        opts = tuple(dict.fromkeys([c.truth, *c.supports, *wrong]))[: c.size]
        return [self.spec(c.subject, T.question("on", a=desc(ctx.obj(c.subject))), opts, (c.subject,))]

    def choose(self, ctx: FrameContext, g: np.random.Generator) -> OnChoice | None:
        """The subject (its value drawn first), its truth and the kinds its wrong options come from."""
        kinds = sorted({f"the {s.kind}" for s in ctx.plan.supports})
        sups = sorted(s.id for s in ctx.plan.supports)
        values = [*sups, "object"]
        size = max(4, len(kinds) + 1)
        holders = [o for o in ctx.things() if _holder(o)]
        family = family_spec(ctx.plan.family)
        stacks = family is not None and (family.stack_prob > 0 or family.contain_prob > 0)
        fitting: dict[str, set[str]] = {}
        # tiers, best first: the option set is never forced (two kinds more than the wrong slots),
        # or only just fills them; small enough to top a stack (where there are stacks), or not
        tiers: dict[tuple[bool, bool], dict[str, list[str]]] = {
            t: {v: [] for v in values} for t in ((True, True), (True, False), (False, True), (False, False))}
        for o in [*ctx.plan.targets, *(o.id for o in ctx.things() if o.id not in ctx.plan.targets)]:
            if ctx.comfortable(o) and self.defined(self.spec(o, "", (), (o,)), ctx):
                item = ctx.obj(o)
                fitting[o] = ({h.category for h in holders if h.id != o and could_rest(item, h)}
                              | set(_catalogue_holders(item, _flat_pool(item, ctx.plan.family), ctx.plan.family)))
                below = item.support_id
                value = "object" if ctx.is_object(below) else below
                if len(fitting[o]) >= size - 1:
                    small = not stacks or value == "object" or small_footprint(item.size)
                    tiers[(small, len(fitting[o]) > size)][value].append(o)
        by_value = {v: next((t[v] for t in tiers.values() if t[v]), []) for v in values}  # rather than another value
        stacked = ["object"] * _object_slots(len(sups)) if by_value["object"] else []  # no stack: supports only
        want = ctx.draw("value/on", 0, [*sups, *stacked])
        if not by_value[want]:
            offered = [v for v, p in by_value.items() if p]
            if not offered:
                return None
            want = ctx.draw("value/on-fallback", 0, offered)
        pool = by_value[want]
        subject = pool[int(g.integers(len(pool)))]
        truth = self.truth(self.spec(subject, "", (), (subject,)), ctx)
        below = ctx.obj(subject).support_id
        truth_kind = ctx.obj(below).category if ctx.is_object(below) else None
        return OnChoice(subject, truth, truth_kind, tuple(kinds), size,
                        tuple(sorted(c for c in fitting[subject] if c != truth_kind)),
                        (tuple(sorted({o.category for o in holders if o.id != subject})),
                         tuple(sorted(_flat_pool(ctx.obj(subject), ctx.plan.family)))))

    def sample(self, ctx: FrameContext, g: np.random.Generator) -> Sample | None:
        """This scene's question before its weighted draw (``robostress.evaluate.calibrate``)."""
        c = self.choose(ctx, g)
        return None if c is None else c.sample()

    def acceptance_key(self, spec: QuestionSpec, ctx: FrameContext, truth: str) -> Record | None:
        """The kinds offered against the subject's kind."""
        return Record(tuple(map(kind_of, spec.options)), kind_of(truth), {"subject": ctx.obj(spec.subjects[0]).category})

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        ctx.refer(spec.subjects[0])
        below = ctx.obj(spec.subjects[0]).support_id
        if ctx.is_object(below):
            return T.indefinite(ctx.obj(below).category)
        return f"the {ctx.plan.support(below).kind}"


def flat_top(category: str) -> bool:
    """Whether objects of a category can carry another object."""
    return get_category(category).flat_top


def could_rest(item: SceneObject, holder: SceneObject) -> bool:
    """Whether ``item``, upright, would fit on ``holder``'s top or inside it."""
    if fits_on(item.size, holder) is not None:
        return True
    upright = item.model_copy(update={"tipped": False})
    return is_container(holder) and fit_inside(holder, upright) is not None


def _catalogue_holders(item: SceneObject, categories: list[str], family: str) -> list[str]:
    """Those of ``categories`` with an object of the family's catalogue that ``item`` would fit on
    or in (real objects); for procedural objects, all of them."""
    if item.asset is None:
        return list(categories)
    objs = catalogue_objects(family_assets(family))
    return [c for c in categories if any(o.category == c and could_rest(item, o) for o in objs)]


def _holder(o: SceneObject) -> bool:
    """Whether something might rest on or in an object: a flat top or a container (a scene's own
    bowl may hold a small object; whether the subject fits is ``could_rest``'s to say)."""
    return flat_top(o.category) or is_container(o)


def _flat_pool(o: SceneObject, family: str) -> list[str]:
    """Categories things rest on or in (flat-topped, containers that hold things) of the object's
    kind of scene: procedural, or the real categories of its family's catalog (``family_assets``)."""
    if o.asset is None:
        return [c for c, s in CATEGORIES.items() if s.flat_top]
    return [c for c, info in family_assets(family).categories.items() if info.flat_top or can_hold(c)]


def _gap(p: np.ndarray, o: SceneObject) -> float:
    """Distance from a point to an object's bounding cylinder."""
    (cx, cy), r, z0, z1 = world_extent(o)
    dxy = max(0.0, math.hypot(p[0] - cx, p[1] - cy) - r)
    return math.hypot(dxy, max(0.0, z0 - p[2], p[2] - z1))


def _gripper_in_view(ctx: FrameContext) -> bool:
    """The fingertips project into the frame (and, with arrays at hand, the gripper is seen)."""
    if ctx.plan.gripper is None:
        return False
    uv, z = ctx.project(np.asarray(ctx.plan.gripper.position))
    inside = bool(z[0] > 0 and 0 <= uv[0, 0] < ctx.frame.width and 0 <= uv[0, 1] < ctx.frame.height)
    if ctx.arrays is not None:
        inside = inside and int((ctx.arrays.ids == ctx.number("gripper")).sum()) >= 6
    return inside


@register
class Nearest(QuestionType):
    """'Which of these objects is closest to the gripper?' (or to a named object)."""

    name, ability = "nearest", "spatial"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        """The answer is drawn first, uniformly over the objects that have three others clearly
        farther away (by centre and by surface), and the three wrong options among those. Were
        the options drawn first, the answer would nearly always be the object nearest of all,
        and which kinds end up nearest the gripper or the middle of the table (large flat ones,
        placed where they fit) would show through the option names. The wrong options are drawn
        with a weight per category (``option_weights``) that offers each category three times as
        often as it is the answer on the train split: drawn uniformly, a plate (rarely nearest of
        four) was the answer of 10 % of the questions offering it and a mug of 33 %, and a
        text-only model scored 31 % against 25 %. Objects wider than
        ``NEAREST_MAX_RADIUS`` take no part: which of their parts is 'closest' is ambiguous, and
        their bounding cylinder would make them the answer nearly whenever offered."""
        c = self.choose(ctx, g)
        if c is None:
            return []
        ref, a, farther = c
        w = option_weights(ctx.plan.family, self.name)
        opts = [a, *(farther[i] for i in weighted_order(g, [o.category for o in farther], w)[:3])]
        text = T.question("nearest", ref="the gripper" if ref is None else desc(ctx.obj(ref)))
        return [self.spec("gripper" if ref is None else ref, text, tuple(desc(o) for o in opts),
                          tuple(o.id for o in opts), ref=ref)]

    def choose(self, ctx: FrameContext, g: np.random.Generator
               ) -> tuple[str | None, SceneObject, list[SceneObject]] | None:
        """(reference: None for the gripper, the answer, the objects clearly farther from the
        reference than the answer), before the wrong options are drawn from the last."""
        seen = [o for o in _seen(ctx) if world_extent(o)[1] <= NEAREST_MAX_RADIUS and ctx.named_apart(o.id)]
        if _gripper_in_view(ctx):
            refs: list[str | None] = [None]
        else:
            refs = [seen[i].id for i in g.permutation(len(seen))][:TRIES]
        for ref in refs:
            p = np.asarray(ctx.plan.gripper.position, dtype=float) if ref is None else ctx.centre(ref)  # type: ignore[union-attr]
            pool = [o for o in seen if o.id != ref]
            d = {o.id: float(np.linalg.norm(ctx.centre(o.id) - p)) for o in pool}
            gap = {o.id: _gap(p, o) for o in pool}
            farther = {o.id: [b for b in pool if d[b.id] - d[o.id] >= NEAREST_MARGIN and gap[b.id] > gap[o.id]]
                       for o in pool}
            answers = [o for o in pool if len(farther[o.id]) >= NEAREST_CHOICE]
            if answers:
                a = answers[int(g.integers(len(answers)))]
                return ref, a, farther[a.id]
        return None

    def sample(self, ctx: FrameContext, g: np.random.Generator) -> Sample | None:
        """This scene's question before its weighted draw (``robostress.evaluate.calibrate``)."""
        c = self.choose(ctx, g)
        if c is None:
            return None
        return Sample(Draw(tuple(o.category for o in c[2]), 3), {c[1].category: 3.0})

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        ref = spec.params["ref"]
        for oid in spec.subjects:
            ctx.refer(oid)
        if ref is None:
            if ctx.plan.gripper is None or not _gripper_in_view(ctx):
                raise Drop("the gripper is not in view")
            p = np.asarray(ctx.plan.gripper.position, dtype=float)
        else:
            ctx.refer(ref)
            p = ctx.centre(ref)
        dist = {i: float(np.linalg.norm(ctx.centre(i) - p)) for i in spec.subjects}
        best = sorted(spec.subjects, key=dist.__getitem__)
        if dist[best[1]] - dist[best[0]] < NEAREST_MARGIN:
            raise Drop("two options are nearly equally close")
        if min(spec.subjects, key=lambda i: _gap(p, ctx.obj(i))) != best[0]:
            raise Drop("nearest by centre and nearest by surface disagree")
        return desc(ctx.obj(best[0]))


@register
class Ordering(QuestionType):
    """'In what order do A, B and C appear from left to right in the image?'"""

    name, ability = "ordering", "spatial"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        perm = ctx.draw("value/ordering", 0, list(itertools.permutations(range(3))))
        for s in _draw(g, _seen(ctx), 3):
            probe = self.spec("", "", (), tuple(o.id for o in s))
            if not self.defined(probe, ctx):
                continue
            xs = sorted(s, key=lambda o: ctx.image_x(o.id))  # left to right
            s = [xs[i] for i in perm]  # named in the drawn order: the answer pattern is balanced
            names = [desc(o) for o in s]
            q = T.question("ordering", a=names[0], b=names[1], c=names[2])
            right = T.in_order([desc(o) for o in xs])  # offer the clean order and 3 of the 5 others
            perms = [T.in_order(list(p)) for p in itertools.permutations(names)]
            wrong = [perms[i] for i in g.permutation(6) if perms[i] != right][:3]
            return [self.spec("/".join(o.id for o in s), q, (right, *wrong), tuple(o.id for o in s))]
        return []

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        xs = sorted((ctx.image_x(i), ctx.refer(i)) for i in spec.subjects)
        if min(b[0] - a[0] for a, b in itertools.pairwise(xs)) < IMAGE_MARGIN * ctx.frame.width:
            raise Drop("two of the objects are too close horizontally to order")
        return T.in_order([n for _, n in xs])
