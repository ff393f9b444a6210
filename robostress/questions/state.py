"""Object and task state: upright or tipped, clear or carrying something, goal reached or not.

'Is anything resting on top of X?' is asked only in scenes that hold a stack: in a scene
without one its answer would be 'no' for every object, a constant a blind model learns.
'Upright or tipped?' likewise is asked in pairs (one upright, one tipped object) and only in
scenes that hold both. Goal questions in a scene with a stack come in mirrored pairs (the same
destination, opposite answers: ``mirrored_goals``); elsewhere a goal question draws its answer
and its destination support first and picks the object to match (``goal_pair``).
"""

from __future__ import annotations

import math

import numpy as np

from robostress.questions import templates as T
from robostress.questions.base import (
    Drop,
    FrameContext,
    QuestionSpec,
    QuestionType,
    desc,
    family_spec,
    register,
)
from robostress.scene.assets import asset_spec, extra_catalog, load_asset
from robostress.scene.catalogue import carries, small_footprint
from robostress.scene.objects import get_category
from robostress.scene.plan import SceneObject
from robostress.scene.sample import articulated


def flat_things(ctx: FrameContext, but: str) -> list[str]:
    """Visible objects something could be put on (flat top), other than ``but``."""
    return [o.id for o in ctx.things()
            if o.id != but and get_category(o.category).flat_top and ctx.comfortable(o.id)]


def small(o: SceneObject) -> bool:
    """Whether an object is of the size that ends up on top of a stack."""
    return not o.tipped and small_footprint(o.size)


def carrier(o: SceneObject) -> bool:
    """Whether an object is of the kind stacks are built on (a large flat top)."""
    return not o.tipped and carries(o.category, o.size)


def subjects(ctx: FrameContext) -> list[str]:
    """Objects a question may be about: visible targets first, then other visible objects."""
    rest = [o.id for o in ctx.things() if o.id not in ctx.plan.targets]
    return [i for i in (*ctx.plan.targets, *rest) if ctx.comfortable(i)]


def the_stack(ctx: FrameContext) -> tuple[str, str] | None:
    """(top, base) of a stack in the scene whose two objects are visible and named apart (an
    object on a top: goal and next-action phrasings say 'on', 'on top of')."""
    for o in ctx.things():
        b = o.support_id
        if ctx.is_object(b) and not ctx.inside(o.id) and all(ctx.comfortable(i) and ctx.named_apart(i) for i in (o.id, b)):
            return o.id, b
    return None


def stacks_by_design(ctx: FrameContext) -> bool:
    """Whether the scene's family puts a stack in every scene: without a visible one, goal and
    next-action questions are not asked (the stack-free answers alone would be unbalanced)."""
    spec = family_spec(ctx.plan.family)
    return spec is not None and spec.require_stack


GOAL_VALUES = ("yes/support", "yes/object", "no/support", "no/object")
NEXT_VALUES = ("done", "pick", "clear_d")  # no "clear_a": see NextAction


def stack_pair(ctx: FrameContext, g: np.random.Generator, purpose: str, k: int, used: set[str],
               values: tuple[str, ...]) -> tuple[str, str] | None:
    """(object, destination) of the ``k``-th 'put X on Y' question in a scene with a stack T on B,
    its answer drawn first from ``values`` (``GOAL_VALUES`` or ``NEXT_VALUES``):

    - yes/support: a free object, the support under it; yes/object and done: T onto B;
    - no/support: T onto its support (it rests on B); pick and no/object: a free object onto
      another free flat-topped one; clear_d: a free object onto B (T must go first).

    Destinations are objects as often as supports for goal questions (the template does not
    give the answer away) and always objects for next-action (whose three options all apply).
    None if the scene has no such stack or the drawn answer cannot be set up."""
    stack = the_stack(ctx)
    if stack is None:
        return None
    top, base = stack
    want = ctx.draw(f"value/{purpose}", k, list(values))
    free = [i for i in subjects(ctx) if i not in (top, base) and not ctx.above(i) and ctx.named_apart(i)]
    g_free = [free[i] for i in g.permutation(len(free))]
    g_free.sort(key=lambda i: not small(ctx.obj(i)))  # objects of the kinds that sit on stacks, like T, first

    def flat_for(x: str) -> list[str]:  # free flat-topped destinations, of the kinds stacks are built on first
        out = [f for f in flat_things(ctx, x) if f not in (top, base) and not ctx.above(f) and ctx.named_apart(f)
               and ctx.obj(x).support_id != f]
        return sorted(out, key=lambda f: not carrier(ctx.obj(f)))

    pairs: list[tuple[str, str]] = []
    if want in ("yes/object", "done"):
        pairs = [(top, base)]
    elif want == "no/support":
        pairs = [(top, ctx.root_support(top))]
    elif want == "yes/support":
        pairs = [(x, ctx.obj(x).support_id) for x in g_free if not ctx.is_object(ctx.obj(x).support_id)]
    elif want in ("no/object", "pick"):
        pairs = [(x, f) for x in g_free for f in flat_for(x)]
    elif want == "clear_d":
        pairs = [(x, base) for x in g_free]
    pairs = [p for p in pairs if p[0] not in used]
    return pairs[0] if pairs else None


def mirrored_goals(ctx: FrameContext, g: np.random.Generator) -> list[tuple[str, str]]:
    """Two goal questions of a scene with a stack T on B, the same destination, opposite answers:
    'T on B' (yes) and 'X on B' (no), or 'X on its support' (yes) and 'T on that support' (no),
    for a free object X; which of the two is drawn per scene (balanced). Each destination and
    each of T and X is then as often in a yes as in a no: drawn one question at a time, a
    storage box or a popcorn box named in the question pointed at the answer (a learned
    text-only model, ``robostress leakage learner=logreg``, scored 57 % against 50 %)."""
    stack = the_stack(ctx)
    if stack is None:
        return []
    top, base = stack
    free = [i for i in subjects(ctx) if i not in (top, base) and not ctx.above(i) and ctx.named_apart(i)
            and not ctx.is_object(ctx.obj(i).support_id)]
    if not free:
        return []
    free = [free[i] for i in g.permutation(len(free))]
    free.sort(key=lambda i: not small(ctx.obj(i)))  # objects of the kinds that sit on stacks, like T, first
    x = free[0]
    if ctx.draw("value/goal-mirror", 0, ["object", "support"]) == "object":
        return [(top, base), (x, base)]
    return [(x, ctx.obj(x).support_id), (top, ctx.obj(x).support_id)]


def task_pair(ctx: FrameContext, g: np.random.Generator, purpose: str, k: int, used: set[str],
              values: tuple[str, ...]) -> tuple[str, str] | None:
    """(object, destination) of the ``k``-th 'put X on Y' question of a goal or next-action type:
    drawn over the scene's stack (``stack_pair``) if it shows one; none in a family that builds
    stacks by design but whose stack is not visible; else over the supports (``goal_pair``)."""
    if the_stack(ctx):
        return stack_pair(ctx, g, purpose, k, used, values)
    return None if stacks_by_design(ctx) else goal_pair(ctx, g, purpose, k, used)


def goal_pair(ctx: FrameContext, g: np.random.Generator, purpose: str, k: int,
              used: set[str]) -> tuple[str, str] | None:
    """(object, destination) of the ``k``-th 'put X on Y' question, with its answer drawn first.

    Whether X already rests on Y is drawn (balanced), then a support Y (balanced over the
    supports that hold objects), then an X that makes the drawn answer true. Only when no
    support can do it is Y a flat-topped object, whose kind then gives the answer away (no
    stacks: X never rests on an object): a scene without stacks cannot hide it.
    """
    done = ctx.draw(f"value/{purpose}", k, [True, False])
    holders = sorted({ctx.root_support(o.id) for o in ctx.things()})
    dest = ctx.draw(f"dest/{purpose}", k, holders) if holders else None
    free = [i for i in subjects(ctx) if i not in used]
    for want in (done, not done):
        hits = [i for i in free if (ctx.obj(i).support_id == dest) == want]
        if dest is not None and hits:
            return hits[0], dest
        for i in free:
            flat = [f for f in flat_things(ctx, i) if (ctx.obj(i).support_id == f) == want]
            if flat:
                return i, flat[int(g.integers(len(flat)))]
    return None


@register
class Upright(QuestionType):
    """'Is the red mug standing upright or lying on its side?' (categories that can tip)."""

    name, ability = "upright", "state"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        ids = [*ctx.plan.targets, *(o.id for o in ctx.things() if o.id not in ctx.plan.targets)]
        ok = [i for i in ids if ctx.comfortable(i) and get_category(ctx.obj(i).category).can_tip]
        tipped = [i for i in ok if ctx.obj(i).tipped]
        upright = [i for i in ok if not ctx.obj(i).tipped]
        if not tipped or not upright:  # a lone value would be a constant a blind model learns
            return []
        pair = (upright[int(g.integers(len(upright)))], tipped[int(g.integers(len(tipped)))])
        return [self.spec(i, T.question("upright", a=desc(ctx.obj(i))), (T.UPRIGHT, T.TIPPED), (i,)) for i in pair]

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        ctx.refer(spec.subjects[0])
        return T.TIPPED if ctx.obj(spec.subjects[0]).tipped else T.UPRIGHT


@register
class Clear(QuestionType):
    """'Is anything resting on top of the blue book?' (only in scenes with a stack; never about a
    container with something inside it, whose answer 'on top of' would not say)."""

    name, ability = "clear", "state"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        seen = [o.id for o in ctx.things() if ctx.comfortable(o.id) and not ctx.holds(o.id)]  # 'on top of'
        loaded = [i for i in seen if ctx.above(i)]
        if not loaded:
            return []
        free = [i for i in seen if i not in loaded and get_category(ctx.obj(i).category).flat_top]
        free = [i for i in free if carrier(ctx.obj(i))] or free  # of the kinds stacks are built on, if any
        picks = [loaded[int(g.integers(len(loaded)))]]
        picks += [free[int(g.integers(len(free)))]] if free else []
        return [self.spec(i, T.question("clear", a=desc(ctx.obj(i))), (T.YES, T.NO), (i,)) for i in picks]

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        ctx.refer(spec.subjects[0])
        return T.YES if ctx.above(spec.subjects[0]) else T.NO


@register
class Goal(QuestionType):
    """'The task is: the red mug must rest directly on the table. Is the task already done?'"""

    name, ability = "goal", "state"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        """In a scene with a stack T on B, two questions with the same destination and opposite
        answers (``mirrored_goals``); elsewhere one per visible target (``task_pair``)."""
        if the_stack(ctx) is not None:
            pairs = mirrored_goals(ctx, g)
        else:
            pairs = []
            for _ in [t for t in ctx.plan.targets if ctx.comfortable(t)]:  # as many as visible targets
                pair = task_pair(ctx, g, self.name, len(pairs), {p[0] for p in pairs}, GOAL_VALUES)
                pairs += [pair] if pair is not None else []
        return [self.spec(t, T.question("goal", a=desc(ctx.obj(t)), dest=ctx.name(dest)), (T.YES, T.NO), (t,),
                          dest=dest) for t, dest in pairs]

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        ctx.refer(spec.subjects[0])
        dest = spec.params["dest"]
        if ctx.is_object(dest):
            ctx.refer(dest)
        return T.YES if ctx.obj(spec.subjects[0]).support_id == dest else T.NO


FRONT_MAX_TURN = 60.0  # deg: an articulated object's front at most this far from facing the camera
BODY_MIN_IN_FRAME = 0.6  # and at least this share of its body's box in the frame on the clean twin
FRONT_MIN_UNOCCLUDED = 0.5  # and at least this share of its in-frame silhouette unoccluded


def front_turn(ctx: FrameContext, oid: str) -> float:
    """Degrees between an articulated object's front (its drawers, its door: -y of the asset, turned
    by its yaw) and the horizontal direction from its centre to this frame's camera."""
    o = ctx.obj(oid)
    a = math.radians(o.yaw_deg)
    front = np.array([math.sin(a), -math.cos(a)])
    to_cam = np.asarray(ctx.plan.camera.position[:2]) - ctx.centre(oid)[:2]
    cos = float(front @ to_cam / max(float(np.linalg.norm(to_cam)), 1e-9))
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def body_in_frame(ctx: FrameContext, oid: str) -> float:
    """Share of the image box of an articulated object's *body* (its closed twin's box, where the
    open one stands: an open drawer or door sticks out toward -y of the asset) inside the frame.
    The same in either state, so asking by it does not ask open objects less often (their silhouette,
    a drawer or door out toward the camera, is cut by the frame's lower edge more often)."""
    o = ctx.obj(oid)
    spec = asset_spec(str(o.asset))
    closed = next(a for a, t in sorted(extra_catalog().assets.items())
                  if t.xml == spec.xml and t.state == "closed")
    own, body = load_asset(str(o.asset)).size, load_asset(closed).size
    f = o.size[1] / own[1]  # the scene's size jitter
    bx, by, bz = body[0] * f, body[1] * f, body[2] * f
    y1 = o.size[1] / 2  # the back of the box; the body spans by from it toward -y
    corners = np.array([[x, y, z] for x in (-bx / 2, bx / 2) for y in (y1 - by, y1) for z in (0.0, bz)])
    a = math.radians(o.yaw_deg)
    rot = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1.0]])
    uv, depth = ctx.project(corners @ rot.T + np.asarray(o.position))
    if (depth <= 0).any():
        return 0.0
    (u0, v0), (u1, v1) = uv.min(0), uv.max(0)
    area = max(u1 - u0, 1e-9) * max(v1 - v0, 1e-9)
    w, h = ctx.frame.width, ctx.frame.height
    return float(max(0.0, min(u1, w) - max(u0, 0)) * max(0.0, min(v1, h) - max(v0, 0)) / area)


def part_name(ctx: FrameContext, oid: str, phrases: dict[str, str]) -> str:
    """'the top drawer of the white cabinet', 'the door of the mini fridge' (``T.PART``) or where a
    thing is put in ('the mini fridge': ``T.PUT_IN``), from the asset's catalog ``part``."""
    part = getattr(asset_spec(str(ctx.obj(oid).asset)), "part", None)
    return phrases[str(part)].format(x=desc(ctx.obj(oid)))


def openable(ctx: FrameContext) -> list[str]:
    """Articulated objects whose state a person can see on the clean twin: comfortably visible
    and named apart, at least ``BODY_MIN_IN_FRAME`` of the body in the frame (``body_in_frame``),
    at least ``FRONT_MIN_UNOCCLUDED`` of the silhouette in the frame unoccluded, the front turned
    at most ``FRONT_MAX_TURN`` from the camera (``front_turn``)."""
    out = []
    for o in ctx.things():
        if o.asset is None or not articulated(o.asset) or o.tipped:
            continue
        gt = ctx.gt(o.id)
        if (gt is not None and ctx.comfortable(o.id) and ctx.visible(o.id) and ctx.named_apart(o.id)
                and gt.visible_fraction >= FRONT_MIN_UNOCCLUDED and body_in_frame(ctx, o.id) >= BODY_MIN_IN_FRAME
                and front_turn(ctx, o.id) <= FRONT_MAX_TURN):
            out.append(o.id)
    return out


def is_open(ctx: FrameContext, oid: str) -> bool:
    """An articulated object's state on this frame, after checking it can be seen and named and its
    front still faces the camera (Drop otherwise: a viewpoint stress may turn the camera to its side
    or back)."""
    ctx.refer(oid)
    turn = front_turn(ctx, oid)
    if turn > FRONT_MAX_TURN:
        raise Drop(f"the front of {desc(ctx.obj(oid))} is turned {turn:.0f} deg from the camera "
                   f"(> {FRONT_MAX_TURN:g}): its state cannot be seen")
    return getattr(asset_spec(str(ctx.obj(oid).asset)), "state", None) == "open"


@register
class OpenClosed(QuestionType):
    """'Is the top drawer of the white cabinet open or closed?', 'Is the door of the mini fridge open
    or closed?' (articulated objects: the household families' cabinets and mini fridge).

    Asked of every articulated object whose state a person can see (``openable``): comfortably
    visible, at least 60 % of its body in the frame, at least half of what is in the frame
    unoccluded, and its front turned at most 60 deg from the camera, so the drawer or door shows
    face-on or obliquely, never edge-on or from behind (the sampler turns fronts at most 40 deg
    from the cameras' side: the front camera sees most of them, a side camera about half). The
    rules read the same in either state (the body, not the drawer or door sticking out, must be in
    the frame), so open objects are not asked less often. The truth is the asset's ``state``; a Latin square over scene index draws it
    (``robostress.scene.sample``), so the two answers are balanced over scenes, and nothing in the
    text depends on it: the open and closed twins have the same category, colour and part. Scenes
    without articulated objects (the lab) propose nothing and draw nothing."""

    name, ability = "open_closed", "state"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        return [self.spec(i, T.question("open_closed", part=part_name(ctx, i, T.PART)), (T.OPEN, T.CLOSED), (i,))
                for i in openable(ctx)]

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        return T.OPEN if is_open(ctx, spec.subjects[0]) else T.CLOSED
