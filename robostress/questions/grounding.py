"""Grounding: a box or a point on a named object, and a point on free support surface.

Truth (permille of the image width and height, origin top-left):

* box: the object's *visible* box. Pixel ``i`` covers ``[i, i+1)``, so the inclusive pixel
  box ``x1..x2`` becomes ``1000*x1/W .. 1000*(x2+1)/W`` (same for y);
* point: the visible mask (``truth['mask']``, instance ``truth['instances']``) is what scores;
  ``truth['point']`` is the pixel deepest inside it (a reference answer, always a hit);
* placement: the free-space mask of the support, restricted to ``truth['region']`` (run-length
  coded, ``robostress.questions.region``): the free surface next to the named object with room
  for the object to put down and within the arm's reach; ``truth['point']`` is the region's
  pixel farthest from its border, ``truth['area_fraction']`` its share of the frame (the chance
  of a random point). Dropped when the region is less than ``MIN_FREE_FRACTION`` of the image.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from robostress.errors import DataError
from robostress.questions import templates as T
from robostress.questions.base import Drop, FrameContext, QuestionSpec, QuestionType, desc, register
from robostress.questions.region import RELATIONS, encode, valid_region
from robostress.render.frame import FrameArrays

MIN_FREE_FRACTION = 0.002
MIN_FREE_PX = 9
TRIES = 8  # (relation, reference, object to put down) draws tried per support on the clean twin


def deepest_point(mask: np.ndarray) -> tuple[int, int]:
    """The (x, y) pixel of a boolean mask farthest from its border (first in raster order on ties)."""
    m = np.pad(mask.astype(np.uint8), 1)  # the image edge counts as a border
    dist = cv2.distanceTransform(m, cv2.DIST_L2, 5)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return int(x), int(y)


def permille_point(x: int, y: int, width: int, height: int) -> list[int]:
    """Pixel centre -> permille point (lands back on the same pixel for images up to 1000 px)."""
    return [round(1000 * (x + 0.5) / width), round(1000 * (y + 0.5) / height)]


def _arrays(ctx: FrameContext) -> FrameArrays:
    if ctx.arrays is None:
        raise DataError(f"frame {ctx.frame.frame_id}: grounding truth needs the frame's arrays (masks)")
    return ctx.arrays


def object_truth(ctx: FrameContext, oid: str) -> dict[str, Any]:
    """Box, mask reference and an inside point of an object on this frame (may Drop)."""
    ctx.refer(oid, grounding=True)
    gt = ctx.frame.gt(oid)
    if gt.bbox is None:
        raise DataError(f"frame {ctx.frame.frame_id}: {oid} has visible pixels but no box")
    w, h = ctx.frame.width, ctx.frame.height
    x1, y1, x2, y2 = gt.bbox
    box = [round(1000 * x1 / w), round(1000 * y1 / h), round(1000 * (x2 + 1) / w), round(1000 * (y2 + 1) / h)]
    n = ctx.number(oid)
    px, py = deepest_point(_arrays(ctx).ids == n)
    return {"box": box, "mask": ctx.frame.mask, "instances": [n], "point": permille_point(px, py, w, h),
            "object_id": oid}


class _ObjectGrounding(QuestionType):
    ability = "target_grounding"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        return [self.spec(t, T.question(self.name, a=desc(ctx.obj(t))), (), (t,))
                for t in ctx.plan.targets if ctx.comfortable(t)]

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> dict[str, Any]:
        return object_truth(ctx, spec.subjects[0])


@register
class Box(_ObjectGrounding):
    """'Give the bounding box of the red mug.'"""

    name, format = "box", "box"


@register
class Point(_ObjectGrounding):
    """'Point to the red mug.'"""

    name, format = "point", "point"


@register
class Placement(QuestionType):
    """'Point to a free spot on the table just to the left of the red mug in the image, where the
    robot could put the blue bowl down.' The valid region (``robostress.questions.region``) is
    the free surface next to the named object X (left, right, in front, behind; or between X and
    Z) with room for Y's footprint and within the arm's reach: a few percent of the frame, where
    'a free spot on the table' accepted about 40 % of it. One question per kind of support."""

    name, ability, format = "placement", "placement_grounding", "point"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        by_kind: dict[str, str] = {}  # one question per kind of support: its name must be unique
        for s in [ctx.root_support(t) for t in ctx.plan.targets] + [s.id for s in ctx.plan.supports]:
            by_kind.setdefault(ctx.plan.support(s).kind, s)
        out = []
        for kind, sid in by_kind.items():
            on = [o for o in ctx.things() if o.support_id == sid and ctx.comfortable(o.id) and ctx.named_apart(o.id)]
            movable = [o for o in ctx.things() if ctx.comfortable(o.id) and ctx.named_apart(o.id)]
            for _ in range(TRIES):
                if not on or len(movable) < 2:
                    break
                rel = RELATIONS[int(g.integers(len(RELATIONS)))]
                refs = [on[i] for i in g.permutation(len(on))[:2 if rel == "between" else 1]]
                ys = [o for o in movable if o not in refs]
                if len(refs) < (2 if rel == "between" else 1) or not ys:
                    continue
                y = ys[int(g.integers(len(ys)))]
                where = T.PLACEMENT_WHERE[rel].format(x=desc(refs[0]), z=desc(refs[-1]))
                spec = self.spec(sid, T.question("placement", support=kind, where=where, y=desc(y)), (),
                                 (sid, y.id, *(r.id for r in refs)), relation=rel)
                if ctx.arrays is None or self.defined(spec, ctx):
                    out.append(spec)
                    break
        return out

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> dict[str, Any]:
        sid, yid, *ref_ids = spec.subjects
        kind = ctx.plan.support(sid).kind
        for oid in (yid, *ref_ids):
            ctx.refer(oid)
        n = ctx.number(sid)
        free = (_arrays(ctx).free == n) if n else np.zeros(_arrays(ctx).free.shape, bool)
        on = [o for o in ctx.things() if ctx.root_support(o.id) == sid]
        region = valid_region(ctx.plan, ctx.plan.support(sid), free, spec.params["relation"], ctx.obj(yid),
                              [ctx.obj(r) for r in ref_ids], on)
        area = int(region.sum())
        if area < max(MIN_FREE_PX, MIN_FREE_FRACTION * region.size):
            raise Drop(f"too little free surface of the {kind} is visible where the question asks ({area} px)")
        x, y = deepest_point(region)
        return {"mask": ctx.frame.free, "instances": [n], "region": encode(region),
                "point": permille_point(x, y, ctx.frame.width, ctx.frame.height),
                "area_fraction": round(area / region.size, 6)}
