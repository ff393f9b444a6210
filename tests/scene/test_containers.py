"""Objects inside containers: measured floors, sampled lab scenes, question truths, rendering."""

from __future__ import annotations

import math

import numpy as np
import pytest

from robostress.questions import QUESTION_TYPES, generate_items
from robostress.questions.base import FrameContext, desc
from robostress.questions.boxes import box_render
from robostress.questions.planning import first_actions, world_of
from robostress.questions.state import the_stack
from robostress.scene import assets as A
from robostress.scene.camera import project
from robostress.scene.containers import (
    below_rim,
    can_hold,
    fit_inside,
    front_rim,
    inside,
    is_container,
)
from robostress.scene.family import load_family
from robostress.scene.objects import world_extent, world_mesh
from robostress.scene.plan import Material, SceneObject, ScenePlan
from robostress.scene.sample import sample_scene

pytestmark = pytest.mark.skipif(not A.assets_available(), reason="asset packages not installed")
RED = Material(color_name="red", rgb=(0.5, 0.05, 0.05))


def _obj(oid: str, asset: str, yaw: float = 30.0) -> SceneObject:
    return SceneObject(id=oid, category=A.asset_spec(asset).category, material=RED, asset=asset,
                       position=(0.1, -0.05, 0.75), size=A.load_asset(asset).size, support_id="sup00", yaw_deg=yaw)


def _rests_in(item: SceneObject, box: SceneObject, tol: float = 0.002) -> None:
    """The item's base is inside the container (below its top, above its base) and no part of
    the container's surface under the item's footprint rises above that base (no sinking)."""
    _, _, b0, b1 = world_extent(box)
    _, _, z0, _ = world_extent(item)
    assert b0 < z0 < b0 + 0.5 * (b1 - b0), "the base is not on the container's inner floor"
    v = world_mesh(box).vertices.astype(np.float64)
    a = math.radians(item.yaw_deg)
    rel = v[:, :2] - np.asarray(item.position[:2])
    lx = rel[:, 0] * math.cos(a) + rel[:, 1] * math.sin(a)  # in the item's own frame
    ly = -rel[:, 0] * math.sin(a) + rel[:, 1] * math.cos(a)
    under = (np.abs(lx) <= item.size[0] / 2) & (np.abs(ly) <= item.size[1] / 2)
    assert under.any(), "nothing of the container lies under the item: it hangs in the air"
    assert v[under, 2].max() <= z0 + tol, f"the container rises {v[under, 2].max() - z0:.4f} m into the item"


@pytest.mark.parametrize(("box", "item"), [("chefmate_8_frypan", "milk"), ("chefmate_8_frypan", "butter"),
                                           ("red_basket", "ketchup"), ("basket", "cookies")])
def test_an_object_fits_on_the_measured_floor(box: str, item: str) -> None:
    c = _obj("c", box)
    placed = fit_inside(c, _obj("i", item, yaw=0.0))
    assert placed is not None and placed.support_id == "c"
    assert inside(placed, c) and is_container(c)
    _rests_in(placed, c)


def test_closed_or_small_containers_hold_nothing() -> None:
    # the storage box is closed (things stack on its lid); LIBERO's bowls and ramekins are smaller
    # than the catalogue's objects: a footprint would rest on the rim, not inside
    for box in ("white_storage_box", "black_bowl", "red_ramekin"):
        assert fit_inside(_obj("c", box), _obj("i", "butter")) is None, box
    on_lid = _obj("i", "butter").model_copy(update={"support_id": "c"})
    lid = _obj("c", "white_storage_box")
    on_lid = on_lid.model_copy(update={"position": (0.1, -0.05, world_extent(lid)[3])})
    assert not inside(on_lid, lid), "an object on a top is a stack, not contained"
    # so 'on' never offers them as where something rests (a kind that is never the truth leaks)
    assert [c for c in ("bowl", "ramekin", "storage box", "frying pan", "basket", "mug") if can_hold(c)] == [
        "frying pan", "basket"]


@pytest.fixture(scope="module")
def lab(lab_scenes: tuple[ScenePlan, ...]) -> list[ScenePlan]:
    return list(lab_scenes[:10])  # sample_scene("lab_tabletop", 0, i), i < 10: the session's plans


def _contained(p: ScenePlan) -> list[tuple[SceneObject, SceneObject]]:
    by = {o.id: o for o in p.objects}
    return [(o, by[o.support_id]) for o in p.objects if o.support_id in by and inside(o, by[o.support_id])]


@pytest.mark.slow
def test_lab_scenes_put_objects_in_containers(lab: list[ScenePlan]) -> None:
    pairs = [pair for p in lab for pair in _contained(p)]
    assert len(pairs) >= 2, "no lab scene out of 10 holds an object in a container"
    for p in lab:
        assert len(_contained(p)) <= 1
        for item, box in _contained(p):
            assert is_container(box) and not box.tipped and not item.tipped
            assert box.support_id in {s.id for s in p.supports}, "containers stand on the table"
            _rests_in(item, box)
            top = np.array([[item.position[0], item.position[1], world_extent(item)[3]]])
            assert not below_rim(p.camera, top, box).any(), "the item's top is seen over the rim"
    assert sample_scene("lab_tabletop", 0, 3).to_json() == lab[3].to_json()  # deterministic


def test_other_families_hold_nothing_in_containers() -> None:
    for family in ("tabletop", "kitchen_shelf"):
        assert load_family(family).contain_prob == 0.0
        assert not any(_contained(sample_scene(family, s, 0)) for s in range(5))


def _ctx(p: ScenePlan) -> FrameContext:
    frame, arrays = box_render(p)
    return FrameContext(p, frame, arrays)


@pytest.mark.slow
def test_questions_read_containment(lab: list[ScenePlan]) -> None:
    on, clear = QUESTION_TYPES.get("on"), QUESTION_TYPES.get("clear")
    for p in (p for p in lab if _contained(p)):
        ctx = _ctx(p)
        (item, box), = _contained(p)
        assert ctx.inside(item.id) and ctx.holds(box.id) and not ctx.inside(box.id)
        spec = on.spec(item.id, "", (), (item.id,))
        if on.defined(spec, ctx):  # visible and named apart
            assert on.truth(spec, ctx) == f"a {box.category}"  # 'resting on or in'
        # 'on top of' never speaks of a container's content; the planner does move it first
        assert all(box.id not in s.subjects for s in clear.propose(ctx, np.random.default_rng(0)))
        stack = the_stack(ctx)
        assert stack is None or not ctx.inside(stack[0])
        firsts = first_actions(world_of(ctx, (box.id,)), lambda w, b=box.id: w.holding == b)
        assert firsts == {("pick", item.id, "")}


@pytest.mark.slow
def test_on_question_offers_containers_as_wrong_kinds(lab: list[ScenePlan]) -> None:
    seen = set()
    for i, p in enumerate(lab):
        frame, arrays = box_render(p)
        items, _ = generate_items(p, frame, [(p, frame, arrays)], 0, ordinal=i)
        for it in (x for x in items if x.qtype == "on"):
            assert "resting on or in?" in it.prompt
            seen |= set(it.options)
    assert {"a frying pan", "a basket"} & seen
    assert not {"a bowl", "a ramekin"} & seen, "kinds that hold nothing are offered"


@pytest.mark.slow
def test_box_raster_hides_the_part_below_the_rim(lab: list[ScenePlan]) -> None:
    p = next(p for p in lab if _contained(p))
    (item, box), = _contained(p)
    frame, arrays = box_render(p, size=(320, 240))
    n = {e: int(k) for k, e in frame.id_map.items()}
    rows = np.nonzero((arrays.ids == n[item.id]).any(1))[0]
    (rim_v,) = project(p.camera, front_rim(box, p.camera.position)[None], 320, 240)[0][:, 1]
    assert len(rows) and rows.max() < rim_v, "pixels of the content below the front rim"
    assert (arrays.ids == n[box.id]).any()


@pytest.mark.slow
def test_mitsuba_shows_the_object_inside_its_container(lab: list[ScenePlan]) -> None:
    from robostress.render.renderer import Renderer, RenderSettings

    p = next(p for p in lab if _contained(p))
    (item, box), = _contained(p)
    a = Renderer(RenderSettings(width=64, height=64, spp=4, sampler="multijitter", max_depth=4)).render(p, 0)
    n = {e: k for k, e in a.id_map.items()}
    mi, mb = a.ids == n[item.id], a.ids == n[box.id]
    assert mi.sum() > 10 and mb.sum() > 10, f"{desc(item)} or {desc(box)} not visible"
    ri, rb = np.nonzero(mi.any(1))[0], np.nonzero(mb.any(1))[0]
    assert ri.max() <= rb.max(), "the content shows below its container: it sank through or stands in front"
    ci, cb = np.nonzero(mi.any(0))[0], np.nonzero(mb.any(0))[0]
    assert cb.min() <= np.median(ci) <= cb.max(), "the content is not over its container in the image"
