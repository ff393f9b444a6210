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
from robostress.questions.base import (
    Drop,
    FrameContext,
    QuestionSpec,
    QuestionType,
    desc,
    family_spec,
    register,
)
from robostress.questions.state import NEXT_VALUES, carrier, small, task_pair
from robostress.scene.objects import get_category
from robostress.scene.plan import SceneObject
from robostress.scene.sample import fits_on

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
    """'The robot must put the red mug on the blue book. What should it do next?'"""

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
        fourth = T.clear_top(d) if ctx.is_object(dest) else T.place_on(a, d)
        opts = (T.pick_up(a), T.clear_top(a), fourth, T.DONE)
        return self.spec(t, T.question("next_action", a=a, dest=d), opts, (t,), dest=dest)

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


def _wrong_names(ctx: FrameContext, g: np.random.Generator, x: str, ids: list[str], but: set[str]) -> list[str]:
    """Wrong answers to 'what must be moved before picking up ``x``?', in the order to offer them.

    The object on top of ``x`` (the answer when something must be moved) is one whose footprint
    fits on ``x``'s top, drawn uniformly among those (``_stack_one``). Wrong names are drawn the
    same way, so that a text-only reader cannot pick the answer by its kind (the butter box
    among bowls and mugs): first the names of ``ids`` that would fit on ``x``, in a random
    order; then, in scenes of real objects, objects of the catalogue that would fit and are not
    in the scene (a category drawn uniformly, as scenes draw theirs, then one of its objects);
    only then other objects of ``ids``, those of the kinds that end up on stacks first."""
    base, taken = ctx.obj(x), {desc(o) for o in ctx.plan.objects} | but
    fit = {desc(ctx.obj(i)) for i in ids if not ctx.obj(i).tipped and fits_on(ctx.obj(i).size, base) is not None}
    ordered = sorted(fit - but)
    out = [ordered[i] for i in g.permutation(len(ordered))]
    family = family_spec(ctx.plan.family)
    if base.asset is not None and family is not None:
        out += _absent_fitting(g, base, family.categories, taken | set(out), 3 - len(out))
    rest = [sorted({desc(ctx.obj(i)) for i in ids if small(ctx.obj(i)) == s} - but - set(out)) for s in (True, False)]
    # (one name may be in both groups: a category's instances, named alike, can differ in size)
    return list(dict.fromkeys(out + [n[i] for n in rest for i in g.permutation(len(n))]))


def _absent_fitting(g: np.random.Generator, base: SceneObject, categories: list[str], taken: set[str],
                    k: int) -> list[str]:
    """Up to ``k`` names of catalogue objects of ``categories`` that are not ``taken`` and would fit on ``base``:
    each a category drawn uniformly (without replacement), then one of its objects."""
    from robostress.scene.assets import asset_catalog
    from robostress.scene.sample import catalogue_object

    by_cat: dict[str, list[str]] = {}
    for a in sorted(asset_catalog().assets):
        o = catalogue_object(a)
        if o.category in categories and desc(o) not in taken and fits_on(o.size, base) is not None:
            by_cat.setdefault(o.category, []).append(desc(o))
    cats = sorted(by_cat)
    out: list[str] = []
    for i in g.permutation(len(cats))[: max(k, 0)]:
        names = sorted(set(by_cat[cats[i]]))
        out.append(names[int(g.integers(len(names)))])
    return out


@register
class MoveFirst(QuestionType):
    """'The robot wants to pick up the blue book. What must it move first?' (scenes with stacks)."""

    name, ability = "move_first", "planning"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        seen = [o.id for o in ctx.things() if ctx.comfortable(o.id)]
        if not any(ctx.above(x) for x in seen):
            return []
        loaded = ctx.draw("value/move_first", 0, [False, True, True, True])  # 'nothing' a quarter of the time
        order = [seen[i] for i in g.permutation(len(seen))]
        order.sort(key=lambda i: not carrier(ctx.obj(i)))  # 'nothing' asked of the kinds stacks are built on
        for x in order:
            if not loaded and not ctx.above(x) and ctx.named_apart(x):
                opts = (T.NOTHING_FIRST, *_wrong_names(ctx, g, x, [i for i in seen if i != x], set())[:3])
                return [self.spec(x, T.question("move_first", a=desc(ctx.obj(x))), opts, (x,))]
            if loaded and ctx.above(x):
                top = stack_above(world_of(ctx, (x,)), x)
                mine = list(dict.fromkeys(desc(ctx.obj(i)) for i in sorted(top)))
                names = mine + _wrong_names(ctx, g, x, [i for i in seen if i != x and i not in top], set(mine))
                opts = (T.NOTHING_FIRST, *names[:3])
                return [self.spec(x, T.question("move_first", a=desc(ctx.obj(x))), opts, (x,))]
        return []

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        x = spec.subjects[0]
        ctx.refer(x)
        firsts = first_actions(world_of(ctx, (x,)), lambda v: v.holding == x)
        if firsts is None:
            raise Drop("the object cannot be picked up")
        if firsts == {("pick", x, "")}:
            return _one_option({T.NOTHING_FIRST}, spec.options)
        return _one_option({desc(ctx.obj(a[1])) for a in firsts if a[1] != x}, spec.options)
