"""Object and task state: upright or tipped, clear or carrying something, goal reached or not.

'Is anything resting on top of X?' is asked only in scenes that hold a stack: in a scene
without one its answer would be 'no' for every object, a constant a blind model learns.
'Upright or tipped?' likewise is asked in pairs (one upright, one tipped object) and only in
scenes that hold both. A goal question draws its answer and its destination support first and
picks the object to match (``goal_pair``).
"""

from __future__ import annotations

import numpy as np

from robostress.questions import templates as T
from robostress.questions.base import FrameContext, QuestionSpec, QuestionType, desc, register
from robostress.scene.objects import get_category


def flat_things(ctx: FrameContext, but: str) -> list[str]:
    """Visible objects something could be put on (flat top), other than ``but``."""
    return [o.id for o in ctx.things()
            if o.id != but and get_category(o.category).flat_top and ctx.comfortable(o.id)]


def subjects(ctx: FrameContext) -> list[str]:
    """Objects a question may be about: visible targets first, then other visible objects."""
    rest = [o.id for o in ctx.things() if o.id not in ctx.plan.targets]
    return [i for i in (*ctx.plan.targets, *rest) if ctx.comfortable(i)]


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
        return [self.spec(i, T.question("upright", a=desc(ctx.obj(i))), (T.UPRIGHT, T.TIPPED), (i,))
                for i in (upright[0], tipped[0])]

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        ctx.refer(spec.subjects[0])
        return T.TIPPED if ctx.obj(spec.subjects[0]).tipped else T.UPRIGHT


@register
class Clear(QuestionType):
    """'Is anything resting on top of the blue book?' (only in scenes with a stack)."""

    name, ability = "clear", "state"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        seen = [o.id for o in ctx.things() if ctx.comfortable(o.id)]
        loaded = [i for i in seen if ctx.above(i)]
        if not loaded:
            return []
        free = [i for i in seen if i not in loaded and get_category(ctx.obj(i).category).flat_top]
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
        out: list[QuestionSpec] = []
        for _ in [t for t in ctx.plan.targets if ctx.comfortable(t)]:  # as many as visible targets
            pair = goal_pair(ctx, g, self.name, len(out), {s.subjects[0] for s in out})
            if pair is not None:
                t, dest = pair
                q = T.question("goal", a=desc(ctx.obj(t)), dest=ctx.name(dest))
                out.append(self.spec(t, q, (T.YES, T.NO), (t,), dest=dest))
        return out

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        ctx.refer(spec.subjects[0])
        dest = spec.params["dest"]
        if ctx.is_object(dest):
            ctx.refer(dest)
        return T.YES if ctx.obj(spec.subjects[0]).support_id == dest else T.NO
