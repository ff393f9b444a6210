"""Question generation, paired across clean and stressed twins.

The question set of a scene is chosen once, on its clean twin (``plan_questions``). Each
question is then *realised* on every frame of the scene (``realise``): same text, same option
order, truth recomputed on that frame's plan and ground truth, or dropped with a reason when
the stress makes it undefined.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from robostress.questions.context import FrameContext, colour_defined, desc
from robostress.questions.item import LETTERS, DroppedItem, Item
from robostress.questions.templates import PROMPT_VERSION, box_prompt, mc_prompt, point_prompt
from robostress.render.frame import Frame, FrameArrays
from robostress.scene.objects import CATEGORIES, get_category
from robostress.scene.plan import SceneObject, ScenePlan
from robostress.seeding import rng


@dataclass(frozen=True)
class QuestionSpec:
    """A question chosen on the clean twin."""

    key: str
    ability: str
    qtype: str
    format: str
    question: str
    options: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()  # object ids the question refers to (by description)
    extra: dict[str, Any] = field(default_factory=dict)


class Drop(Exception):
    """The question is undefined on this frame."""


Truth = Callable[[QuestionSpec, FrameContext], Any]
TRUTH: dict[str, Truth] = {}


def truth(qtype: str) -> Callable[[Truth], Truth]:
    """Register the truth function of a question type."""
    def deco(fn: Truth) -> Truth:
        TRUTH[qtype] = fn
        return fn
    return deco


def _shuffle(g: np.random.Generator, correct: str, distractors: list[str]) -> tuple[str, ...]:
    opts = [correct] + distractors
    return tuple(opts[i] for i in g.permutation(len(opts)))


def _mc(key: str, ability: str, qtype: str, q: str, opts: tuple[str, ...], subj: tuple[str, ...],
        **extra: Any) -> QuestionSpec:
    return QuestionSpec(key, ability, qtype, "mc", q, opts, subj, extra)


def plan_questions(plan: ScenePlan, frame: Frame, seed: int) -> list[QuestionSpec]:
    """The scene's question set, chosen on its clean twin (deterministic in seed and scene)."""
    g = rng(seed, plan.scene_id, "questions")
    ctx = FrameContext(plan, frame)
    vis = [o for o in plan.objects if ctx.visible(o.id)]
    targets = [plan.object(t) for t in plan.targets if ctx.visible(t)]
    others = [o for o in vis if o.id not in plan.targets]
    out: list[QuestionSpec] = []
    cats = list(CATEGORIES)
    cat_count: dict[str, int] = {}
    for o in plan.objects:
        cat_count[o.category] = cat_count.get(o.category, 0) + 1
    for t in targets:
        tid, d = t.id, desc(t)
        wrong = [c for c in g.permutation(cats) if c != t.category][:3]
        out.append(_mc(f"recognition/category/{tid}", "recognition", "category",
                       f"What kind of object is the {t.material.color_name} one?",
                       _shuffle(g, t.category, list(wrong)), (tid,)))
        if cat_count[t.category] == 1:
            from robostress.scene.sample import PALETTE
            used = [c for c in PALETTE if c != t.material.color_name and c not in ("white", "black")]
            out.append(_mc(f"recognition/color/{tid}", "recognition", "color",
                           f"What colour is the {t.category}?",
                           _shuffle(g, t.material.color_name, [str(c) for c in g.permutation(used)[:3]]),
                           (tid,), category=t.category))
        if get_category(t.category).can_tip:
            out.append(_mc(f"state/upright/{tid}", "state", "upright", f"Is {d} standing upright or lying on its side?",
                           ("standing upright", "lying on its side"), (tid,)))
        out.append(_mc(f"state/clear/{tid}", "state", "clear", f"Is anything resting on top of {d}?",
                       ("yes", "no"), (tid,)))
        out.append(QuestionSpec(f"grounding/box/{tid}", "target_grounding", "box", "box",
                                f"Give the bounding box of {d}.", (), (tid,)))
        out.append(QuestionSpec(f"grounding/point/{tid}", "target_grounding", "point", "point",
                                f"Point to {d}.", (), (tid,)))
        out.append(_mc(f"state/goal/{tid}", "state", "goal",
                       f"The task is: {d} must stand directly on {ctx.support_word(_root(plan, tid))}. "
                       "Is the task already done?", ("yes", "no"), (tid,), support=_root(plan, tid)))
        if others:
            o = others[int(g.integers(len(others)))]
            out.append(_mc(f"spatial/left_right/{tid}/{o.id}", "spatial", "left_right",
                           f"In the image, is {d} to the left or to the right of {desc(o)}?",
                           ("to the left", "to the right"), (tid, o.id)))
            o2 = others[int(g.integers(len(others)))]
            out.append(_mc(f"spatial/front_behind/{tid}/{o2.id}", "spatial", "front_behind",
                           f"Which is closer to the camera: {d} or {desc(o2)}?",
                           tuple(g.permutation([d, desc(o2)]).tolist()), (tid, o2.id)))
        cands = [o for o in vis if o.id != tid]
        if len(cands) >= 3:
            pick = [cands[i] for i in g.permutation(len(cands))[:3]]
            opts = tuple(desc(o) for o in pick) + (ctx.support_word(_root(plan, tid)),)
            out.append(_mc(f"spatial/on/{tid}", "spatial", "on", f"What is {d} resting on?",
                           tuple(opts[i] for i in g.permutation(4)), (tid,) + tuple(o.id for o in pick)))
            out.append(_mc(f"planning/next_action/{tid}", "planning", "next_action",
                           f"The robot must put {d} on {desc(pick[0])}. What should it do first?",
                           tuple(np.array(_plan_options(d, desc(pick[0]), desc(pick[1])))[g.permutation(4)].tolist()),
                           (tid, pick[0].id, pick[1].id)))
    if len(vis) >= 4:
        ref = plan.gripper is not None
        pool = [vis[i] for i in g.permutation(len(vis))[:4]]
        what = "the gripper" if ref else desc(pool[3])
        opts = pool[:4] if ref else pool[:3] + [o for o in vis if o not in pool][:1]
        if len(opts) == 4:
            out.append(_mc("spatial/nearest", "spatial", "nearest", f"Which object is closest to {what}?",
                           tuple(desc(o) for o in opts), tuple(o.id for o in opts),
                           reference=None if ref else pool[3].id))
    cat = str(g.choice(sorted({o.category for o in vis}))) if vis else None
    if cat:
        n = sum(1 for o in vis if o.category == cat)
        lo = max(0, n - int(g.integers(4)))
        out.append(_mc(f"recognition/count/{cat}", "recognition", "count",
                       f"How many {get_category(cat).plural} can you see?",
                       tuple(str(lo + i) for i in g.permutation(4)), (), category=cat))
    for tid in plan.targets[:1]:
        t = plan.object(tid)
        absent = [c for c in CATEGORIES if not any(o.category == c and o.material.color_name == t.material.color_name
                                                   for o in plan.objects)]
        fake = str(g.choice(absent))
        for label, cat_name in (("present", t.category), ("absent", fake)):
            out.append(_mc(f"recognition/existence/{label}", "recognition", "existence",
                           f"Is there a {t.material.color_name} {cat_name} in the image?", ("yes", "no"), (),
                           colour=t.material.color_name, category=cat_name))
    sup = plan.support(_root(plan, plan.targets[0])) if plan.targets else plan.supports[0]
    out.append(QuestionSpec("grounding/placement", "placement_grounding", "placement", "point",
                            f"Point to a free spot on the {sup.kind} where the robot could put an object down.",
                            (), (), {"support": sup.id}))
    return _balance(out, ctx, g)


def _balance(specs: list[QuestionSpec], ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
    """Move each clean answer to a slot drawn from shuffled blocks of all slots, so every letter
    is correct equally often (within one per option count and scene). Questions undefined on
    the clean twin are left out."""
    slots: dict[int, list[int]] = {}
    out = []
    for s in specs:
        if s.format != "mc":
            out.append(s)
            continue
        try:
            t = TRUTH[s.qtype](s, ctx)
        except Drop:
            continue
        n = len(s.options)
        if not slots.get(n):
            slots[n] = [int(i) for i in g.permutation(n)]
        slot = slots[n].pop()
        rest = [o for o in s.options if o != t]
        opts = rest[:slot] + [t] + rest[slot:]
        out.append(QuestionSpec(s.key, s.ability, s.qtype, s.format, s.question, tuple(opts), s.subjects, s.extra))
    return out


def _plan_options(a: str, b: str, c: str) -> list[str]:
    return [f"pick up {a}", f"pick up the object on top of {a} and set it aside",
            f"pick up the object on top of {b} and set it aside", "the task is already done"]


def _root(plan: ScenePlan, oid: str) -> str:
    ids = {o.id: o for o in plan.objects}
    cur = ids[oid]
    while cur.support_id in ids:
        cur = ids[cur.support_id]
    return cur.support_id


def _need_visible(ctx: FrameContext, *ids: str) -> None:
    for i in ids:
        if not ctx.visible(i):
            raise Drop(f"{i} is not visible in this frame")


def _unique(ctx: FrameContext, oid: str) -> None:
    o = ctx.plan.object(oid)
    if len(ctx.matches(o.material.color_name, o.category)) > 1:
        raise Drop(f"'{desc(o)}' is ambiguous in this frame")


def _coloured_subject(s: QuestionSpec, ctx: FrameContext, undefined: str) -> SceneObject:
    """The visible subject of a colour-related question, whose colour is still defined."""
    o = ctx.plan.object(s.subjects[0])
    _need_visible(ctx, o.id)
    if not colour_defined(o):
        raise Drop(undefined)
    return o


@truth("category")
def _t_category(s: QuestionSpec, ctx: FrameContext) -> str:
    o = _coloured_subject(s, ctx, "the object's colour, used to name it, is undefined under this material")
    if sum(x.material.color_name == o.material.color_name for x in ctx.plan.objects) > 1:
        raise Drop("another object now has the same colour")
    return o.category


@truth("color")
def _t_color(s: QuestionSpec, ctx: FrameContext) -> str:
    o = _coloured_subject(s, ctx, "colour is undefined under this material (glass, blended or near black)")
    if sum(x.category == o.category for x in ctx.plan.objects) > 1:
        raise Drop("another object of the same category now exists")
    return o.material.color_name


@truth("upright")
def _t_upright(s: QuestionSpec, ctx: FrameContext) -> str:
    _need_visible(ctx, s.subjects[0])
    _unique(ctx, s.subjects[0])
    return "lying on its side" if ctx.plan.object(s.subjects[0]).tipped else "standing upright"


@truth("clear")
def _t_clear(s: QuestionSpec, ctx: FrameContext) -> str:
    _need_visible(ctx, s.subjects[0])
    _unique(ctx, s.subjects[0])
    return "yes" if ctx.resting_on(s.subjects[0]) else "no"


@truth("goal")
def _t_goal(s: QuestionSpec, ctx: FrameContext) -> str:
    _need_visible(ctx, s.subjects[0])
    _unique(ctx, s.subjects[0])
    return "yes" if ctx.plan.object(s.subjects[0]).support_id == s.extra["support"] else "no"


@truth("left_right")
def _t_left_right(s: QuestionSpec, ctx: FrameContext) -> str:
    a, b = s.subjects
    _need_visible(ctx, a, b)
    ca, cb = ctx.centroid(a), ctx.centroid(b)
    assert ca is not None and cb is not None
    if abs(ca[0] - cb[0]) < 0.04 * ctx.frame.width:
        raise Drop("the two objects are too close horizontally to tell left from right")
    return "to the left" if ca[0] < cb[0] else "to the right"


@truth("front_behind")
def _t_front(s: QuestionSpec, ctx: FrameContext) -> str:
    a, b = s.subjects
    _need_visible(ctx, a, b)
    da, db = ctx.camera_depth(a), ctx.camera_depth(b)
    if abs(da - db) < 0.04:
        raise Drop("the two objects are nearly equally far from the camera")
    return desc(ctx.plan.object(a if da < db else b))


@truth("on")
def _t_on(s: QuestionSpec, ctx: FrameContext) -> str:
    tid = s.subjects[0]
    _need_visible(ctx, tid)
    sup = ctx.plan.object(tid).support_id
    names = {desc(ctx.plan.object(i)): i for i in s.subjects[1:]}
    if sup in {x.id for x in ctx.plan.supports}:
        word = ctx.support_word(sup)
        if word not in s.options:
            raise Drop("the object now rests on another support")
        return word
    below = desc(ctx.plan.object(sup))
    if below not in s.options:
        raise Drop(f"the object rests on something that is not an option ({below})")
    return below if below in names else below


@truth("next_action")
def _t_next(s: QuestionSpec, ctx: FrameContext) -> str:
    a, b = s.subjects[0], s.subjects[1]
    _need_visible(ctx, a, b)
    da, db = desc(ctx.plan.object(a)), desc(ctx.plan.object(b))
    if ctx.plan.object(a).support_id == b:
        return "the task is already done"
    if ctx.resting_on(a):  # precondition of pick(a): nothing on top of it
        return f"pick up the object on top of {da} and set it aside"
    if ctx.resting_on(b):  # precondition of place(a, b): b is clear
        return f"pick up the object on top of {db} and set it aside"
    return f"pick up {da}"


@truth("nearest")
def _t_nearest(s: QuestionSpec, ctx: FrameContext) -> str:
    _need_visible(ctx, *s.subjects)
    ref = s.extra.get("reference")
    if ref is None:
        assert ctx.plan.gripper is not None
        p = np.asarray(ctx.plan.gripper.position)
    else:
        r = ctx.plan.object(ref)
        p = np.array([r.position[0], r.position[1], r.position[2] + r.size[2] / 2])
    def dist(oid: str) -> float:
        o = ctx.plan.object(oid)
        return float(np.linalg.norm(np.array([o.position[0], o.position[1], o.position[2] + o.size[2] / 2]) - p))
    d = sorted((dist(i), i) for i in s.subjects)
    if d[1][0] - d[0][0] < 0.02:
        raise Drop("two options are nearly equally close")
    for o in ctx.plan.objects:  # a new object closer than every option makes the question moot
        if o.id not in s.subjects and dist(o.id) < d[0][0]:
            raise Drop("an object that is not an option is now the closest")
    return desc(ctx.plan.object(d[0][1]))


@truth("count")
def _t_count(s: QuestionSpec, ctx: FrameContext) -> str:
    n = sum(1 for o in ctx.plan.objects if o.category == s.extra["category"] and ctx.visible(o.id))
    if str(n) not in s.options:
        raise Drop(f"the visible count ({n}) is not among the options")
    return str(n)


@truth("existence")
def _t_exists(s: QuestionSpec, ctx: FrameContext) -> str:
    hits = [o for o in ctx.matches(s.extra["colour"], s.extra["category"])]
    if any(not colour_defined(o) for o in hits):
        raise Drop("the object's colour is undefined under this material")
    return "yes" if any(ctx.visible(o.id) for o in hits) else "no"


def _box(ctx: FrameContext, oid: str) -> dict[str, Any]:
    _need_visible(ctx, oid)
    _unique(ctx, oid)
    gt = ctx.frame.gt(oid)
    assert gt.bbox is not None
    w, h = ctx.frame.width, ctx.frame.height
    x1, y1, x2, y2 = gt.bbox
    box = [round(1000 * x1 / w), round(1000 * y1 / h), round(1000 * (x2 + 1) / w), round(1000 * (y2 + 1) / h)]
    return {"box": box, "mask": ctx.frame.mask, "instances": [ctx.number(oid)], "object_id": oid,
            "point": _inner_point(ctx, ctx.number(oid), ctx.frame.mask)}


def _inner_point(ctx: FrameContext, number: int, which: str) -> list[int]:
    """The pixel deepest inside a mask region, in permille."""
    assert ctx.arrays is not None
    img = ctx.arrays.ids if which == ctx.frame.mask else ctx.arrays.free
    m = (img == number).astype(np.uint8)
    dist = cv2.distanceTransform(np.pad(m, 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return [round(1000 * (x + 0.5) / ctx.frame.width), round(1000 * (y + 0.5) / ctx.frame.height)]


TRUTH["box"] = lambda s, ctx: _box(ctx, s.subjects[0])
TRUTH["point"] = lambda s, ctx: _box(ctx, s.subjects[0])


@truth("placement")
def _t_place(s: QuestionSpec, ctx: FrameContext) -> dict[str, Any]:
    n = ctx.number(s.extra["support"])
    assert ctx.arrays is not None
    area = int((ctx.arrays.free == n).sum())
    if n == 0 or area < 30:
        raise Drop("too little free support surface is visible")
    return {"mask": ctx.frame.free, "instances": [n], "point": _inner_point(ctx, n, ctx.frame.free),
            "area_fraction": area / ctx.arrays.free.size}


def realise(spec: QuestionSpec, ctx: FrameContext) -> Item | DroppedItem:
    """The item of ``spec`` on one frame, or why it is dropped there."""
    f = ctx.frame
    try:
        t = TRUTH[spec.qtype](spec, ctx)
    except Drop as e:
        return DroppedItem(frame_id=f.frame_id, key=spec.key, reason=str(e))
    if spec.format == "mc":
        prompt, answer, tr = mc_prompt(spec.question, spec.options), LETTERS[spec.options.index(t)], {"option": t}
    else:
        prompt, answer, tr = (box_prompt if spec.format == "box" else point_prompt)(spec.question), None, t
    return Item(item_id=f"{f.frame_id}/{spec.key}", key=spec.key, frame_id=f.frame_id, scene_id=f.scene_id,
                clean_item_id=f"{f.clean_frame_id}/{spec.key}", image=f.image, dimension=f.stress.dimension,
                subtype=f.stress.subtype, severity=f.stress.severity, ability=spec.ability,  # type: ignore[arg-type]
                qtype=spec.qtype, format=spec.format, question=spec.question, prompt=prompt,  # type: ignore[arg-type]
                options=spec.options, answer=answer, truth=tr, prompt_version=PROMPT_VERSION)


def generate_items(clean_plan: ScenePlan, clean_frame: Frame,
                   frames: list[tuple[ScenePlan, Frame, FrameArrays]], seed: int
                   ) -> tuple[list[Item], list[DroppedItem]]:
    """Items of every frame of one scene (the clean frame first). A stressed item is kept only
    when its clean twin exists, so every stressed item has a pair."""
    specs = plan_questions(clean_plan, clean_frame, seed)
    items: list[Item] = []
    dropped: list[DroppedItem] = []
    clean_keys: set[str] = set()
    for plan, frame, arrays in frames:
        ctx = FrameContext(plan, frame, arrays)
        for s in specs:
            r = realise(s, ctx)
            if isinstance(r, Item) and (frame.frame_id == clean_frame.frame_id or s.key in clean_keys):
                items.append(r)
                if frame.frame_id == clean_frame.frame_id:
                    clean_keys.add(s.key)
            elif isinstance(r, Item):
                dropped.append(DroppedItem(frame_id=frame.frame_id, key=s.key, reason="undefined on the clean twin"))
            else:
                dropped.append(r)
    return items, dropped

