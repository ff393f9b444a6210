"""Recognition: category, colour, count and existence of objects.

Counting rule: a count question asks how many objects of a category rest on a support
(directly or on a stack), i.e. what is *in the scene* on that support. Every counted instance
must be *plainly visible and separate* (``plainly_visible``): at least ``COUNT_MIN_SHARE`` of its
whole silhouette visible (occlusion and frame cut together, so no more than 40 % of it is hidden
behind anything, another instance of its kind included, and two are seen as two) and at
least ``COUNT_MIN_AREA`` of the frame's pixels (relative to the frame, so the rule is the same at
128 and at 256 px). An instance below the rule makes the count ambiguous (a 67-pixel sliver, 58 %
visible, at the foot of a bottle is one box to a person and two to the truth), so the question
is dropped on that frame, never re-counted, and on the clean twin a count whose category has an
instance below the rule is not asked at all. Existence works as before: a matching object that
is there but cannot be seen (``MIN_VISIBLE_SHARE``) makes 'is there ...' undefined.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

import cv2
import numpy as np

from robostress.questions import templates as T
from robostress.questions.acceptance import Record, permille_cells
from robostress.questions.base import (
    MIN_CONTRAST,
    Drop,
    FrameContext,
    QuestionSpec,
    QuestionType,
    colour_undefined,
    desc,
    family_assets,
    family_spec,
    has_colour_name,
    print_colour,
    register,
)
from robostress.questions.weighting import Draw, Sample, option_weights, weighted_choice
from robostress.scene.assets import asset_catalog
from robostress.scene.objects import CATEGORIES, get_category
from robostress.scene.plan import SceneObject
from robostress.scene.sample import featurable_assets

if TYPE_CHECKING:
    from robostress.scene.family import FamilySpec

COUNT_MIN_SHARE = 0.6  # a counted instance: this share of its whole silhouette visible, at least
COUNT_MIN_AREA = 0.002  # and this share of the frame's pixels (131 px at 256x256, 33 px at 128x128)
COLOUR_CHOICES = ("red", "green", "blue", "yellow", "orange", "purple", "pink", "cyan", "brown", "gray")


def _targets(ctx: FrameContext) -> list[SceneObject]:
    return [ctx.obj(t) for t in ctx.plan.targets if ctx.comfortable(t)]


def category_pool(o: SceneObject, family: str) -> list[str]:
    """Answer options for an object's category: for a real object, the real-object categories of
    its scene's family (``family_assets``: household's include the extra catalog's)."""
    if o.asset is None:
        return list(CATEGORIES)
    return list(family_assets(family).categories)


def _others(g: np.random.Generator, ctx: FrameContext, truth: str, key: Callable[[SceneObject], str],
            pool: list[str], k: int = 3, from_scene: bool = True) -> tuple[str, ...]:
    """The truth and ``k`` wrong answers: first those of other visible objects in the scene, then
    the rest of ``pool``. The wrong answers are thus drawn like the truth (from the scene), so
    which names tend to be right cannot be learned from the options alone. A truth drawn
    uniformly from ``pool`` instead (``from_scene=False``) gets wrong answers drawn uniformly
    from it too."""
    seen = {key(o) for o in ctx.things() if ctx.comfortable(o.id)} if from_scene else set()
    scene = sorted((seen & set(pool)) - {truth})
    rest = sorted(set(pool) - set(scene) - {truth})
    picks = [str(x) for x in g.permutation(scene)] + [str(x) for x in g.permutation(rest)]
    return (truth, *picks[:k])


@register
class Category(QuestionType):
    """'What kind of object is the red one?' (the object is named by colour only). Not asked of
    real objects: a catalogue with one or two colours per category gives the answer away from
    the colour word (``category_at`` asks their category by a point instead)."""

    name, ability = "category", "recognition"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        return [self.spec(t.id, T.question("category", colour=t.material.color_name),
                          _others(g, ctx, t.category, lambda o: o.category, category_pool(t, ctx.plan.family)), (t.id,))
                for t in _targets(ctx) if has_colour_name(t) and t.asset is None]

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        o = ctx.obj(spec.subjects[0])
        ctx.check_visible(o.id)
        if why := colour_undefined(o):
            raise Drop(f"its colour, which names it, is undefined: {why}")
        if sum(x.material.color_name == o.material.color_name for x in ctx.things()) > 1:
            raise Drop(f"more than one object is {o.material.color_name} now")
        if printed := [x for x in ctx.things() if x.id != o.id and print_colour(x) == o.material.color_name]:
            raise Drop(f"{desc(printed[0])} is printed with {o.material.color_name}")
        return o.category


@register
class CategoryAt(QuestionType):
    """'What kind of object is at the point (x, y)?' A material stress leaves a glass mug a mug:
    naming the object by a point, not by its colour, keeps category questions under every
    material stress. The point is the clean twin's most interior pixel of the object; in a
    stressed frame the question holds while that pixel still shows the same object."""

    name, ability = "category_at", "recognition"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        if ctx.arrays is None:
            return []
        out = []
        seen = [o for o in ctx.things() if ctx.comfortable(o.id)]  # any object, drawn: the truth is
        for t in [seen[i] for i in g.permutation(len(seen))[:2]]:  # then as likely as a wrong option
            x, y, q = _point_question(ctx, t, "category_at")
            out.append(self.spec(t.id, q, _others(g, ctx, t.category, lambda o: o.category, category_pool(t, ctx.plan.family)),
                                 (t.id,), x=x, y=y))
        return out

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        o = ctx.obj(spec.subjects[0])
        ctx.check_visible(o.id)
        _check_point(spec, ctx, o)
        return o.category


def _asset_colours(family: str) -> list[str]:
    """The colour names real objects of the family's catalog have (wrong options drawn from them,
    not from colours that are never the answer)."""
    return sorted({s.color for s in family_assets(family).assets.values() if s.color})


def _point_question(ctx: FrameContext, o: SceneObject, template: str) -> tuple[int, int, str]:
    """(x, y) of the object's most interior pixel and the question naming it by that point."""
    assert ctx.arrays is not None
    x, y = _interior_point(ctx.arrays.ids == ctx.number(o.id))
    h, w = ctx.arrays.ids.shape
    return x, y, T.question(template, x=str(round(1000 * (x + 0.5) / w)), y=str(round(1000 * (y + 0.5) / h)))


def _check_point(spec: QuestionSpec, ctx: FrameContext, o: SceneObject) -> None:
    """Drop unless the question's point still shows the object in this frame."""
    if ctx.arrays is None:
        raise Drop("no instance mask to check the point against")
    if int(ctx.arrays.ids[spec.params["y"], spec.params["x"]]) != ctx.number(o.id):
        raise Drop(f"the point no longer falls on {desc(o)} (the view or layout changed)")


def _interior_point(mask: np.ndarray) -> tuple[int, int]:
    """(x, y) of the mask pixel farthest from its border (robust to small shifts)."""
    d = cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 3)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(d)), d.shape)
    return int(x), int(y)


@register
class Colour(QuestionType):
    """'What colour is the mug?' (asked only of an object whose category is unique)."""

    name, ability = "color", "recognition"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        if ctx.plan.objects and ctx.plan.objects[0].asset is not None:
            return self._by_point(ctx, g)
        out = []
        for t in _targets(ctx):
            if has_colour_name(t) and sum(x.category == t.category for x in ctx.things()) == 1:
                out.append(self.spec(t.id, T.question("color", category=t.category),
                                     _others(g, ctx, t.material.color_name, lambda o: o.material.color_name,
                                             list(COLOUR_CHOICES)), (t.id,)))
        return out

    def _by_point(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        """Real objects: a catalogue with one or two colours per category would give the colour
        away from the category word, so the object is named by a point (as in ``category_at``)."""
        if ctx.arrays is None:
            return []
        seen = [o for o in ctx.things() if ctx.comfortable(o.id) and has_colour_name(o)]
        spec = family_spec(ctx.plan.family)
        if spec is not None and spec.featured_colour:  # the sampler drew the first target's colour
            t = ctx.obj(ctx.plan.targets[0])  # first (uniform over the colours): ask only it
            if t not in seen:
                return []
            x, y, q = _point_question(ctx, t, "color_at")
            # its colour was drawn uniformly over the family's colours, so the wrong ones are too:
            # preferring the scene's colours offered black (rare among the other objects) so
            # seldom that a text-only prior picked it whenever offered (+6.7 points)
            return [self.spec(f"at/{t.id}", q, _others(g, ctx, t.material.color_name, lambda o: o.material.color_name,
                                                       _asset_colours(ctx.plan.family), from_scene=False), (t.id,), x=x, y=y)]
        out = []
        for k in range(3):  # the colour asked about is drawn first, then an object of it
            want = ctx.draw("value/color", k, _asset_colours(ctx.plan.family))
            have = [o for o in seen if o.material.color_name == want]
            if not have:  # asking another colour instead would make the common colours common answers
                continue
            t = have[int(g.integers(len(have)))]
            seen.remove(t)
            x, y, q = _point_question(ctx, t, "color_at")
            out.append(self.spec(f"at/{t.id}", q, _others(g, ctx, t.material.color_name, lambda o: o.material.color_name,
                                                          _asset_colours(ctx.plan.family)), (t.id,), x=x, y=y))
        return out

    def acceptance_key(self, spec: QuestionSpec, ctx: FrameContext, truth: str) -> Record | None:
        """A colour asked by a point: its answer against the point's place in the image."""
        if "x" not in spec.params:
            return None
        return Record(spec.options, truth, permille_cells(1000 * (spec.params["x"] + 0.5) / ctx.frame.width,
                                                          1000 * (spec.params["y"] + 0.5) / ctx.frame.height))

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        o = ctx.obj(spec.subjects[0])
        ctx.check_visible(o.id)
        if why := colour_undefined(o):
            raise Drop(f"colour is undefined under this material: {why}")
        if "x" in spec.params:  # named by a point
            _check_point(spec, ctx, o)
            return o.material.color_name
        if sum(x.category == o.category for x in ctx.things()) > 1:
            raise Drop(f"'the {o.category}' now names more than one object")
        return o.material.color_name


def count_visibility(ctx: FrameContext, oid: str) -> str | None:
    """Why an instance is not plainly visible enough to be counted, or None (see the module doc)."""
    gt = ctx.gt(oid)
    px, share = (gt.visible_px if gt else 0), ctx.share(oid)
    area = COUNT_MIN_AREA * ctx.frame.width * ctx.frame.height
    if share < COUNT_MIN_SHARE or px < area:
        return (f"{desc(ctx.obj(oid))} is {100 * share:.0f}% visible ({px} px; counting needs "
                f"{100 * COUNT_MIN_SHARE:.0f}% and {area:.0f} px): the count is ambiguous")
    if gt is not None and gt.contrast is not None and gt.contrast < MIN_CONTRAST:
        return f"{desc(ctx.obj(oid))} is photometrically invisible (mean delta E {gt.contrast:.1f})"
    return None


def plainly_visible(ctx: FrameContext, oid: str) -> bool:
    """Whether an instance may be counted (``count_visibility`` finds nothing against it)."""
    return count_visibility(ctx, oid) is None


def _designed_multiples(family: str) -> bool:
    """Whether a scene family places categories several times by design (``multiples``)."""
    spec = family_spec(family)
    return spec is not None and len(set(spec.multiples)) > 1


def _on_support(ctx: FrameContext, support: str) -> list[SceneObject]:
    return [o for o in ctx.things() if ctx.root_support(o.id) == support]


@register
class Count(QuestionType):
    """'How many bowls are on the table?' Options are always 0-3. In a family that places
    categories several times by design, a scene holding a category two or three times asks
    about it (nothing if one of them is out of sight), and any other scene draws 0 or 1
    (balanced); in other families the count is drawn over 0-3 and falls back to one the scene
    offers. The category is picked to match. With the scene family's ``multiples`` cycle
    ([1, 1, 2, 3]: one scene in four has a pair, one a triple) each count is the truth a
    quarter of the time. The category of a 0 or a 1 is drawn with a weight per category
    (``option_weights``) that asks each category as often for 0 and for 1 as for 2 and 3 on the
    train split: drawn uniformly, plates, frying pans, baskets and storage boxes, never placed
    twice, were asked only for 0 or 1, and a text-only model scored 30.5 % against 25 %. Since
    counted instances must be plainly visible (``COUNT_MIN_SHARE``), about 40 % of the pairs and
    triples are not asked; a scene without a multiple then asks its 0 or 1 only every other time
    (balanced over consecutive scenes), so that 0 and 1 stay as common as 2 and 3 (asked in every
    such scene, the text-only logreg answered 0 or 1 and scored 32.5 % against 25 %)."""

    name, ability = "count", "recognition"
    VALUES = (0, 1, 2, 3)

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        c = self.choose(ctx)
        if c is None:
            return []
        want, cands = c
        if want in (0, 1) and _designed_multiples(ctx.plan.family):
            w = option_weights(ctx.plan.family, self.name)
            sup, cat = cands[weighted_choice(g, [f"{want}:{cat}" for _, cat in cands], w)]
        else:
            sup, cat = cands[int(g.integers(len(cands)))]
        q = T.question("count", plural=get_category(cat).plural, support=ctx.plan.support(sup).kind)
        return [self.spec(f"{sup}/{cat}", q, tuple(str(v) for v in self.VALUES), (), support=sup, category=cat)]

    def choose(self, ctx: FrameContext) -> tuple[int, list[tuple[str, str]]] | None:
        """The count asked and the (support, category) pairs that have it."""
        by_count: dict[int, list[tuple[str, str]]] = {}
        for sup in sorted({ctx.root_support(o.id) for o in ctx.things()}):
            for cat in sorted({c for o in ctx.things() for c in category_pool(o, ctx.plan.family)}):
                members = [o for o in _on_support(ctx, sup) if o.category == cat]
                if len(members) in self.VALUES and all(plainly_visible(ctx, o.id) for o in members):
                    by_count.setdefault(len(members), []).append((sup, cat))
        if not by_count:
            return None
        if not _designed_multiples(ctx.plan.family):  # draw the count, fall back to one the scene has
            want = ctx.draw("value/count", 0, list(self.VALUES))
            if want not in by_count:
                want = ctx.draw("value/count-fallback", 0, sorted(by_count))
        elif max(by_count) >= 2:  # a scene built with a category twice or three times asks about it
            want = max(by_count)  # (the family's ``multiples`` cycle makes that half the scenes)
        elif max(Counter(o.category for o in ctx.things()).values()) >= 2:
            return None  # its multiple is not all in view: a 0 or 1 here would crowd out the 2s and 3s
        elif not ctx.draw("value/count-ask", 0, [True, False]):
            return None  # a 0 or 1 in every other such scene: as many as the 2s and 3s that stay plainly visible
        else:
            want = ctx.draw("value/count", 0, [v for v in (0, 1) if v in by_count] or sorted(by_count))
        return want, by_count[want]

    def sample(self, ctx: FrameContext, g: np.random.Generator) -> Sample | None:
        """This scene's question before its weighted draw (``robostress.evaluate.calibrate``): a
        0 or 1 draws its category by weight, a 2 or 3 sets the target of its category's 0s and 1s."""
        c = self.choose(ctx)
        if c is None or not _designed_multiples(ctx.plan.family):
            return None
        want, cands = c
        if want in (0, 1):
            return Sample(Draw(tuple(f"{want}:{cat}" for _, cat in cands), 1), {})
        return Sample(None, {f"{v}:{cat}": 0.5 / len(cands) for v in (0, 1) for _, cat in cands})

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        members = [o for o in _on_support(ctx, spec.params["support"]) if o.category == spec.params["category"]]
        for o in members:
            if why := count_visibility(ctx, o.id):
                raise Drop(f"a counted object is not plainly visible: {why}")
        return str(len(members))


def _absent_like_featured(spec: FamilySpec, pairs: set[tuple[str, str]], support: str) -> list[tuple[str, str, str]]:
    """Absent objects that could have been the present one of a featured-colour family (its first
    target): the (colour, category) pairs of the catalogue that could have been featured and are
    not in the scene. Any other pair would let the text give the answer away (a red mug that
    cannot be a target is never there)."""
    cat = asset_catalog()
    could = {(cat.assets[a].color, cat.assets[a].category) for a in featurable_assets(spec)} - pairs
    return sorted((c, k, support) for c, k in could)


@register
class Existence(QuestionType):
    """'Is there a green cone on the table?' once with a present and once with an absent object."""

    name, ability = "existence", "recognition"

    def propose(self, ctx: FrameContext, g: np.random.Generator) -> list[QuestionSpec]:
        """The present object is the scene's first target; the absent one is drawn among pairs of
        colour and category that are not in the scene. In a featured-colour family these are the
        pairs that could have been the target, each drawn with a weight (``option_weights``) that
        asks it absent as often as present on the train split: a colour drawn first and a pair of
        it second, a black frying pan (the only black object) was there in 65 % of the questions
        about it, and a text-only model scored 54.5 % against 50 %."""
        c = self.choose(ctx)
        if c is None:
            return []
        t, fakes, weighted = c
        out = [self._spec(ctx, "present", t.material.color_name, t.category, ctx.root_support(t.id))]
        if fakes:
            if weighted:
                w = option_weights(ctx.plan.family, self.name)
                col, cat, sup = fakes[weighted_choice(g, [f"{a} {b}" for a, b, _ in fakes], w)]
            else:
                col, cat, sup = fakes[int(g.integers(len(fakes)))]
            out.append(self._spec(ctx, "absent", col, cat, sup))
        return out

    def choose(self, ctx: FrameContext) -> tuple[SceneObject, list[tuple[str, str, str]], bool] | None:
        """(the present object, the absent (colour, category, support) candidates, whether these are
        drawn by weight)."""
        seen = [o for o in ctx.things() if ctx.comfortable(o.id)]
        targets = [t for t in _targets(ctx) if has_colour_name(t)]
        if not targets or len(seen) < 2:
            return None
        t = targets[0]
        pairs = {(o.material.color_name, o.category) for o in ctx.things()}
        spec = family_spec(ctx.plan.family)
        if t.asset is not None and spec is not None and spec.featured_colour:
            return t, _absent_like_featured(spec, pairs, ctx.root_support(t.id)), True
        if t.asset is not None:  # a real object that exists in another scene: as plausible as a present one
            real = {(s.color, s.category) for s in family_assets(ctx.plan.family).assets.values() if s.color}
            return t, sorted((c, cat, ctx.root_support(t.id)) for c, cat in real - pairs), False
        # a colour and a category that are both in the scene, but never together
        return t, sorted({(a.material.color_name, b.category, ctx.root_support(a.id)) for a in seen for b in seen
                          if has_colour_name(a) and (a.material.color_name, b.category) not in pairs}), False

    def sample(self, ctx: FrameContext, g: np.random.Generator) -> Sample | None:
        """This scene's questions before the weighted draw (``robostress.evaluate.calibrate``)."""
        c = self.choose(ctx)
        if c is None or not c[2]:
            return None
        t, fakes, _ = c
        draw = Draw(tuple(f"{a} {b}" for a, b, _ in fakes), 1) if fakes else None
        return Sample(draw, {f"{t.material.color_name} {t.category}": 1.0})

    def _spec(self, ctx: FrameContext, key: str, colour: str, category: str, support: str) -> QuestionSpec:
        q = T.question("existence", a_colour=T.indefinite(colour), category=category,
                       support=ctx.plan.support(support).kind)
        return self.spec(key, q, (T.YES, T.NO), (), colour=colour, category=category, support=support)

    def truth(self, spec: QuestionSpec, ctx: FrameContext) -> str:
        p = spec.params
        hits = [o for o in _on_support(ctx, p["support"])
                if o.material.color_name == p["colour"] and o.category == p["category"]]
        for o in hits:
            if why := colour_undefined(o):
                raise Drop(f"{desc(o)} is on the {ctx.plan.support(p['support']).kind} but {why}")
        for o in _on_support(ctx, p["support"]):
            if o.category == p["category"] and print_colour(o) == p["colour"]:
                raise Drop(f"{desc(o)} is printed with {p['colour']}")
        if not hits:
            return T.NO
        if any(ctx.visible(o.id) for o in hits):
            return T.YES
        raise Drop(f"{desc(hits[0])} is there but cannot be seen")
