"""Object and task state: upright or tipped, clear or carrying something, goal reached or not.

'Is anything resting on top of X?' is asked only in scenes that hold a stack: in a scene
without one its answer would be 'no' for every object, a constant a blind model learns.
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


def destination(ctx: FrameContext, g: np.random.Generator, oid: str) -> str:
    """A goal destination for ``oid``: its own support (half the time) or a flat-top object."""
    flat = flat_things(ctx, oid)
    if flat and g.random() < 0.5:
        return flat[int(g.integers(len(flat)))]
    return ctx.root_support(oid)


@register
class Upright(QuestionType):
    """'Is the red mug standing upright or lying on its side?' (categories that can tip)."""

    name, ability = "upright", "state"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        return [self.spec(t, T.question("upright", a=desc(ctx.obj(t))), (T.UPRIGHT, T.TIPPED), (t,))
                for t in ctx.plan.targets if ctx.comfortable(t) and get_category(ctx.obj(t).category).can_tip]

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
        out = []
        for t in ctx.plan.targets:
            if ctx.comfortable(t):
                dest = destination(ctx, g, t)
                q = T.question("goal", a=desc(ctx.obj(t)), dest=ctx.name(dest))
                out.append(self.spec(t, q, (T.YES, T.NO), (t,), dest=dest))
        return out

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        ctx.refer(spec.subjects[0])
        dest = spec.params["dest"]
        if ctx.is_object(dest):
            ctx.refer(dest)
        return T.YES if ctx.obj(spec.subjects[0]).support_id == dest else T.NO
