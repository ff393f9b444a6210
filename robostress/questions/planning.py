"""Planning: the next action toward a goal, and what must be moved first, from a tiny exact
symbolic pick-and-place model of the scene.

The model (blocks-world style): the robot can ``pick(x)`` only with an empty gripper and when
nothing rests on ``x``; it can ``place(x, y)`` only while holding ``x``, onto a support (always
room: a support is never full) or onto a flat-topped object with nothing on it. The truth is
the set of first actions of *all* shortest plans (breadth-first search over the objects that
matter: the ones named and those stacked on them); if two offered options both start a
shortest plan the question is ambiguous and dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

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
from robostress.questions.spatial import could_rest
from robostress.questions.state import (
    NEXT_VALUES,
    carrier,
    is_open,
    openable,
    part_name,
    small,
    task_pair,
)
from robostress.questions.weighting import Draw, Sample, option_weights, weighted_order
from robostress.scene.catalogue import catalogue_objects
from robostress.scene.objects import get_category

Action = tuple[str, str, str]  # ('pick', x, '') or ('place', x, y)
MAX_DEPTH = 12


@dataclass(frozen=True)
class World:
    """Symbolic state: what each object rests on, what the gripper holds."""

    on: tuple[tuple[str, str], ...]  # (object, what it rests on), sorted; a held object is absent
    holding: str | None
    flat: frozenset[str]  # objects with a flat top
    supports: frozenset[str]

    def above(self, x: str) -> list[str]:
        """Objects resting directly on ``x``."""
        return [o for o, b in self.on if b == x]

    def actions(self) -> list[Action]:
        """Actions whose preconditions hold."""
        if self.holding is None:
            return [("pick", o, "") for o, _ in self.on if not self.above(o)]
        h = self.holding
        dests = sorted(self.supports) + [o for o, _ in self.on if o in self.flat and not self.above(o)]
        return [("place", h, d) for d in dests]

    def apply(self, a: Action) -> World:
        """The state after ``a`` (which must be applicable)."""
        if a[0] == "pick":
            return replace(self, on=tuple(p for p in self.on if p[0] != a[1]), holding=a[1])
        return replace(self, on=tuple(sorted(self.on + ((a[1], a[2]),))), holding=None)


def world_of(ctx: FrameContext, names: tuple[str, ...]) -> World:
    """The part of the scene that matters for ``names``: them and everything stacked on them."""
    keep: set[str] = set()
    todo = [n for n in names if ctx.is_object(n)]
    while todo:
        x = todo.pop()
        if x not in keep:
            keep.add(x)
            todo += [o.id for o in ctx.above(x)]
    on = tuple(sorted((x, ctx.obj(x).support_id) for x in keep))
    flat = frozenset(x for x in keep if get_category(ctx.obj(x).category).flat_top)
    return World(on, None, flat, frozenset(s.id for s in ctx.plan.supports))


def first_actions(start: World, goal: Callable[[World], bool]) -> set[Action] | None:
    """First actions of every shortest plan reaching ``goal`` (empty set: already reached;
    None: unreachable within MAX_DEPTH)."""
    if goal(start):
        return set()
    layer: dict[World, set[Action]] = {start: set()}
    seen = {start}
    for _ in range(MAX_DEPTH):
        nxt: dict[World, set[Action]] = {}
        for w, firsts in layer.items():
            for a in w.actions():
                v = w.apply(a)
                if v not in seen:
                    nxt.setdefault(v, set()).update(firsts or {a})
        hits = [f for w, f in nxt.items() if goal(w)]
        if hits:
            return set().union(*hits)
        seen |= set(nxt)
        layer = nxt
    return None


def stack_above(w: World, x: str) -> set[str]:
    """Everything stacked above ``x``."""
    out, todo = set(), [x]
    while todo:
        for o in w.above(todo.pop()):
            out.add(o)
            todo.append(o)
    return out


def _one_option(texts: set[str], options: tuple[str, ...]) -> str:
    true = sorted(texts & set(options))
    if len(true) > 1:
        raise Drop(f"more than one option starts a shortest plan: {true}")
    if not true:
        raise Drop(f"no option starts a shortest plan (first steps: {sorted(texts)})")
    return true[0]


@register
class NextAction(QuestionType):
    """'The robot must put the red mug on the blue book. What should it do next?' Three options:
    pick up the object, clear the destination's top, or nothing (already done); the answer is
    drawn first among the three. Clearing the object's own top is not asked: only the base of a
    stack, a plate, a book or a storage box, can be the object of that answer, so its kind gave
    it away (a learned text-only model, logistic regression on the words, scored 41 % against
    25 % with it; ``robostress leakage learner=logreg``). When a stress puts something on the
    object, its first step is none of the options and the question is dropped on that frame."""

    name, ability = "next_action", "planning"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        out: list[QuestionSpec] = []
        for _ in [t for t in ctx.plan.targets if ctx.comfortable(t)]:  # as many as visible targets
            pair = task_pair(ctx, g, self.name, len(out), {s.subjects[0] for s in out}, NEXT_VALUES)
            if pair is not None:
                out += self.first_defined([self._make(ctx, *pair)], ctx)
        return out

    def _make(self, ctx: FrameContext, t: str, dest: str) -> QuestionSpec:
        a, d = desc(ctx.obj(t)), ctx.name(dest)
        third = T.clear_top(d) if ctx.is_object(dest) else T.place_on(a, d)
        opts = (T.pick_up(a), third, T.DONE)
        return self.spec(t, T.question("next_action", a=a, dest=d), opts, (t,), dest=dest)

    def acceptance_key(self, spec: QuestionSpec, ctx: FrameContext, truth: str) -> Record | None:
        """The answer (pick up, clear or place, done) against what the question and options name:
        the object's and the destination's kinds and names (colour words too), and the two together
        (a learned text-only model found 'the book' with 'the pudding box' telling)."""
        t, dest = ctx.obj(spec.subjects[0]), spec.params["dest"]
        kind = ctx.obj(dest).category if ctx.is_object(dest) else ctx.plan.support(dest).kind
        name = ctx.name(dest)
        roles = ("pick", "third", "done")  # the options in proposal order (``_make``)
        return Record(roles, roles[spec.options.index(truth)],
                      {"object": t.category, "dest": kind, "object_name": desc(t), "dest_name": name,
                       "pair": f"{desc(t)} -> {name}"})

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        t, dest = spec.subjects[0], spec.params["dest"]
        a, d = ctx.refer(t), ctx.refer(dest) if ctx.is_object(dest) else ctx.name(dest)
        w = world_of(ctx, (t, dest))
        firsts = first_actions(w, lambda v: (t, dest) in v.on)
        if firsts is None:
            raise Drop("the goal cannot be reached")
        if not firsts:
            return _one_option({T.DONE}, spec.options)
        above_t, above_d = stack_above(w, t), stack_above(w, dest)
        texts: set[str] = set()
        for kind, x, y in firsts:
            if kind == "place" and x == t and y == dest:
                texts.add(T.place_on(a, d))
            elif kind == "pick" and x == t:
                texts.add(T.pick_up(a))
            elif kind == "pick":
                texts |= {T.clear_top(a)} if x in above_t else set()
                texts |= {T.clear_top(d)} if x in above_d else set()
        return _one_option(texts, spec.options)


def _could_carry(ctx: FrameContext, x: str, ids: list[str], but: set[str]) -> list[tuple[str, tuple[str, ...]]]:
    """What could rest on or in ``x`` and is not there, as (category, names) candidates: the name
    of each object of ``ids`` that would fit on ``x`` or inside it (untipped), and, in scenes of
    real objects, per category of the family, the catalogue objects not in the scene that would
    fit (one of them is named if the category is drawn). Names in ``but`` are left out. One
    candidate per category (its names those of the scene if it has any, else the catalogue's):
    two of a kind offered together (two ketchup bottles of the scene, or the scene's pudding box
    and the catalogue's green one) were never the truth, 2.5 % of the questions, and a learned
    text-only model (``robostress leakage learner=logreg``) weighted that pair against both."""
    base = ctx.obj(x)
    scene: dict[str, set[str]] = {}
    for o in map(ctx.obj, ids):
        if not o.tipped and desc(o) not in but and could_rest(o, base):
            scene.setdefault(o.category, set()).add(desc(o))
    family = family_spec(ctx.plan.family)
    absent: dict[str, set[str]] = {}
    if base.asset is not None and family is not None:
        taken = {desc(o) for o in ctx.plan.objects} | but
        for o in catalogue_objects(family_assets(ctx.plan.family)):
            if o.category in family.categories and o.category not in scene and desc(o) not in taken \
                    and could_rest(o, base):
                absent.setdefault(o.category, set()).add(desc(o))
    return sorted((c, tuple(sorted(n))) for c, n in (scene | absent).items())


@dataclass(frozen=True)
class MoveChoice:
    """What a move_first question asks about, before its wrong options are drawn."""

    subject: str
    mine: tuple[str, ...]  # names of what is stacked on it (offered; the top one is the truth)
    truth_kind: str | None  # the category of the truth (None: nothing must be moved)
    others: tuple[str, ...]  # categories of the other names in ``mine``
    candidates: list[tuple[str, tuple[str, ...]]]  # (category, names) the wrong options are drawn from

    @property
    def wrong(self) -> int:
        return 3 - len(self.mine)


@register
class MoveFirst(QuestionType):
    """'The robot wants to pick up the blue book. What must it move first?' (scenes with stacks)."""

    name, ability = "move_first", "planning"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        """'Nothing' is the truth a quarter of the time, asked of the kinds stacks are built on.
        The object on top of the subject (the truth otherwise) is one whose footprint fits on the
        subject's top, drawn uniformly among those as stacks are built; the wrong options are
        what else would fit there (``_could_carry``: objects of the scene and, for real objects,
        of the catalogue), so that no option is one that could never be on top (a book on a
        butter box). They are drawn with a weight per category (``option_weights``) that offers
        each category three times as often as it is the truth on the train split: drawn
        uniformly, with large objects filling the slots when too few fitted, a book was the truth
        of 3 % of the questions offering it and a butter box of 32 %, and a text-only model
        scored 30 % against 25 %. No wrong option is of a kind already on the subject: the butter
        box on top and a butter box from the catalogue offered together made the truth one of two
        (a learned text-only model, ``robostress leakage learner=logreg``, scored 30.5 %). A subject
        with too few candidates is not asked."""
        c = self.choose(ctx, g)
        if c is None:
            return []
        w = option_weights(ctx.plan.family, self.name)
        picked = [c.candidates[i] for i in weighted_order(g, [k for k, _ in c.candidates], w)[: c.wrong]]
        names = [n[0] if len(n) == 1 else n[int(g.integers(len(n)))] for _, n in picked]
        opts = (T.NOTHING_FIRST, *c.mine, *names)
        return [self.spec(c.subject, T.question("move_first", a=desc(ctx.obj(c.subject))), opts, (c.subject,))]

    def choose(self, ctx: FrameContext, g: np.random.Generator) -> MoveChoice | None:
        """The subject (whether something is on it drawn first) and its wrong candidates."""
        seen = [o.id for o in ctx.things() if ctx.comfortable(o.id)]
        if not any(ctx.above(x) for x in seen):
            return None
        loaded = ctx.draw("value/move_first", 0, [False, True, True, True])  # 'nothing' a quarter of the time
        order = [seen[i] for i in g.permutation(len(seen))]
        order.sort(key=lambda i: not carrier(ctx.obj(i)))  # 'nothing' asked of the kinds stacks are built on
        for x in order:
            if not loaded and not ctx.above(x) and ctx.named_apart(x):
                cands = _could_carry(ctx, x, [i for i in seen if i != x], set())
                if len(cands) >= 3:
                    return MoveChoice(x, (), None, (), cands)
            if loaded and ctx.above(x):
                top = stack_above(world_of(ctx, (x,)), x)
                mine = tuple(dict.fromkeys(desc(ctx.obj(i)) for i in sorted(top)))
                cands = _could_carry(ctx, x, [i for i in seen if i != x and i not in top], set(mine))
                kinds = {ctx.obj(i).category for i in top}  # a kind offered twice (the butter box on top and
                cands = [c for c in cands if c[0] not in kinds]  # another from the catalogue) was the truth
                tops = [i for i in sorted(top) if not ctx.above(i)]
                if len(mine) <= 3 and len(cands) >= 3 - len(mine):
                    kind = ctx.obj(tops[0]).category if len(tops) == 1 else None
                    others = tuple(ctx.obj(i).category for i in sorted(top) if i not in tops[:1])
                    return MoveChoice(x, mine, kind, others, cands)
        return None

    def acceptance_key(self, spec: QuestionSpec, ctx: FrameContext, truth: str) -> Record | None:
        """The kinds offered against the subject's kind."""
        return Record(tuple(map(kind_of, spec.options)), kind_of(truth), {"subject": ctx.obj(spec.subjects[0]).category})

    def sample(self, ctx: FrameContext, g: np.random.Generator) -> Sample | None:
        """This scene's question before its weighted draw (``robostress.evaluate.calibrate``)."""
        c = self.choose(ctx, g)
        if c is None:
            return None
        return Sample(Draw(tuple(k for k, _ in c.candidates), c.wrong),
                      {c.truth_kind: 3.0} if c.truth_kind else {}, dict.fromkeys(c.others, 1.0))

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        x = spec.subjects[0]
        ctx.refer(x)
        firsts = first_actions(world_of(ctx, (x,)), lambda v: v.holding == x)
        if firsts is None:
            raise Drop("the object cannot be picked up")
        if firsts == {("pick", x, "")}:
            return _one_option({T.NOTHING_FIRST}, spec.options)
        return _one_option({desc(ctx.obj(a[1])) for a in firsts if a[1] != x}, spec.options)


@register
class OpenFirst(QuestionType):
    """'The robot must put the red mug in the top drawer of the white cabinet. What must it do
    first?', options 'open the top drawer of the white cabinet' and 'pick up the red mug'
    (articulated objects whose state can be seen: ``robostress.questions.state.openable``).

    The robot has one gripper and opens a drawer or door with it, so with the part closed the first
    step of every shortest plan is to open it (picking the object up first would mean setting it
    down again); with it open, to pick the object up. The truth is thus the articulated object's
    state (balanced over scenes by the sampler's Latin square), and the options and question read
    the same in both states. The object put away is a small one (of the kinds that sit on stacks),
    visible and named apart, with nothing on it (else clearing it would come first) and not resting
    on the articulated object; drawn uniformly from this type's own stream, independent of the state.
    Two options: a third that is never true ('close the drawer') would only be one a text-only
    reader rules out."""

    name, ability = "open_first", "planning"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        out = []
        for box in openable(ctx):
            things = [o.id for o in ctx.things() if o.id != box and small(ctx.obj(o.id)) and ctx.comfortable(o.id)
                      and ctx.visible(o.id) and ctx.named_apart(o.id) and not ctx.above(o.id)
                      and ctx.obj(o.id).support_id != box]
            if not things:
                continue
            x = things[int(g.integers(len(things)))]
            a = desc(ctx.obj(x))
            opts = (T.open_part(part_name(ctx, box, T.PART)), T.pick_up(a))
            out.append(self.spec(f"{x}/{box}", T.question("open_first", a=a, place=part_name(ctx, box, T.PUT_IN)),
                                 opts, (x, box)))
        return out

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        x, box = spec.subjects
        a = ctx.refer(x)
        if ctx.above(x):
            raise Drop(f"something rests on {a}: it must be cleared first")
        return T.pick_up(a) if is_open(ctx, box) else T.open_part(part_name(ctx, box, T.PART))
