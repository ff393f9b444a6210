"""The procedural object library: closed, outward-facing meshes of the requested size."""

from __future__ import annotations

import numpy as np
import pytest

from robostress.errors import ConfigError
from robostress.scene.objects import (
    CATEGORIES,
    box_mesh,
    get_category,
    object_mesh,
    subdivide,
    world_extent,
    world_mesh,
)
from robostress.scene.plan import Deformation, Material, SceneObject


def signed_volume(v: np.ndarray, f: np.ndarray) -> float:
    v = v.astype(np.float64)
    return float(np.einsum("ij,ij->i", v[f[:, 0]], np.cross(v[f[:, 1]], v[f[:, 2]])).sum() / 6)


def closed(v: np.ndarray, f: np.ndarray) -> bool:
    """Every undirected edge is shared by exactly two faces once coincident vertices are merged."""
    _, inv = np.unique(np.round(v.astype(np.float64), 5), axis=0, return_inverse=True)
    g = inv.ravel()[f]
    edges: dict[tuple[int, int], int] = {}
    for a, b, c in g:
        for e in ((a, b), (b, c), (c, a)):
            if e[0] != e[1]:
                k = (min(e), max(e))
                edges[k] = edges.get(k, 0) + 1
    return all(n == 2 for n in edges.values())


@pytest.mark.parametrize("cat", sorted(CATEGORIES))
def test_every_category_is_a_closed_outward_mesh_of_its_size(cat: str) -> None:
    spec = CATEGORIES[cat]
    m = object_mesh(cat, spec.nominal_size)
    assert m.vertices.dtype == np.float32 and m.faces.dtype == np.uint32
    assert signed_volume(m.vertices, m.faces) > 0  # outward winding
    ext = m.vertices.max(0) - m.vertices.min(0)
    np.testing.assert_allclose(ext, spec.nominal_size, rtol=0.02)
    assert abs(float(m.vertices[:, 2].min())) < 1e-6
    assert (m.uv >= 0).all() and (m.uv <= 1).all()
    if cat != "mug":  # the mug's handle is a separate tube sunk into the body wall
        assert closed(m.vertices, m.faces)


@pytest.mark.parametrize("kind", ["bend", "twist", "crumple"])
def test_deformations_grow_with_amplitude_and_keep_the_base_down(kind: str) -> None:
    size = CATEGORIES["bottle"].nominal_size
    base = object_mesh("bottle", size, Deformation(kind=kind, amplitude=0.0)).vertices  # type: ignore[arg-type]
    moved = []
    for amp in (0.1, 0.3, 0.6):
        v = object_mesh("bottle", size, Deformation(kind=kind, amplitude=amp, seed=3)).vertices  # type: ignore[arg-type]
        assert float(v[:, 2].min()) >= -1e-6
        moved.append(float(np.linalg.norm(v - base, axis=1).mean()))
    assert moved[0] < moved[1] < moved[2]


def test_subdivision_splits_long_edges_and_keeps_the_mesh_closed_and_outward() -> None:
    m = object_mesh("box", CATEGORIES["box"].nominal_size)
    v, f, uv = subdivide(m.vertices, m.faces, m.uv, 0.03)
    e = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]).astype(int)
    assert float(np.linalg.norm(v[e[:, 0]] - v[e[:, 1]], axis=1).max()) <= 0.03
    assert len(f) in {len(m.faces) * 4 ** k for k in range(1, 8)}  # whole triangles split in four
    assert closed(v, f) and abs(signed_volume(v, f) - signed_volume(m.vertices, m.faces)) < 1e-9  # same solid
    # one level: each new vertex is the midpoint of an edge of the original, in space and in uv
    v1, f1, uv1 = subdivide(m.vertices, m.faces, m.uv, 0.99 * float(
        np.linalg.norm(m.vertices[m.faces[:, 0]] - m.vertices[m.faces[:, 1]], axis=1).max()))
    old = np.concatenate([m.faces[:, [0, 1]], m.faces[:, [1, 2]], m.faces[:, [2, 0]]]).astype(int)
    pv, pt = m.vertices.astype(np.float64), m.uv.astype(np.float64)

    def key(x: np.ndarray, t: np.ndarray) -> tuple[float, ...]:
        return tuple(float(c) for c in np.round(np.concatenate([x, t]), 5))

    mids = {key((pv[a] + pv[b]) / 2, (pt[a] + pt[b]) / 2) for a, b in old}
    new = {key(v1[k].astype(np.float64), uv1[k].astype(np.float64)) for k in range(len(m.vertices), len(v1))}
    assert new and new <= mids
    assert len(subdivide(m.vertices, m.faces, m.uv, 10.0)[1]) == len(m.faces)  # nothing longer: unchanged


@pytest.mark.slow
def test_a_twisted_real_box_turns_no_black_back_faces_to_the_camera(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scene 4's white storage box, twisted 2.3 rad (nonrigid_deformation s4): from its coarse mesh
    (two triangles a side) faces rendered black over 2 % of the image; subdivided before the
    twist, none do. (Shaded one-sided here, as before deformed objects were shaded two-sided:
    two-sided shading would hide the black, not the chords through the solid.)"""
    import robostress.render.mitsuba_scene as ms
    import robostress.scene.objects as objects
    from robostress.render.renderer import Renderer, RenderSettings
    from robostress.scene.sample import sample_scene
    from robostress.stress.base import apply_stress

    original = ms.material_bsdf
    monkeypatch.setattr(ms, "material_bsdf", lambda m, two_sided=False: original(m))
    plan, _ = apply_stress(sample_scene("lab_tabletop", 0, 4), "nonrigid_deformation", 4)
    # raw passes of 12 spp (renderer r8's): the denoiser would lift pure black, and at fewer raw
    # samples a dark pixel can miss every light by chance
    r = Renderer(RenderSettings(width=96, height=96, denoise=None, spp=12))
    black = {}
    for max_edge in (1e9, objects.DEFORM_MAX_EDGE):
        monkeypatch.setattr(objects, "DEFORM_MAX_EDGE", max_edge)
        objects.world_mesh.cache_clear()  # meshes are cached by object, not by this module setting
        im, _ = r.render_rgb(plan, 0)
        black[max_edge] = float((im.max(axis=2) == 0).mean())
    assert black[1e9] > 0.005 and black[objects.DEFORM_MAX_EDGE] == 0.0, black


@pytest.mark.slow
def test_a_crumpled_box_shows_the_inside_of_its_folds_not_black(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scene 11's white storage box, crumpled at s5: the displacement folds the surface over
    itself, and the inside of a fold (back faces) rendered pure black over 1.7 % of a 256-px
    frame with a one-sided BSDF. A deformed object is shaded two-sided."""
    import robostress.render.mitsuba_scene as ms
    from robostress.render.renderer import Renderer, RenderSettings
    from robostress.scene.sample import sample_scene
    from robostress.stress.base import apply_stress

    plan, _ = apply_stress(sample_scene("lab_tabletop", 0, 11), "nonrigid_deformation", 5)
    assert {plan.object(t).deformation.kind for t in plan.targets} == {"crumple"}
    r = Renderer(RenderSettings(width=96, height=96, denoise=None, spp=12))  # raw, as above
    two_sided, _ = r.render_rgb(plan, 0)
    original = ms.material_bsdf
    monkeypatch.setattr(ms, "material_bsdf", lambda m, two_sided=False: original(m))
    one_sided, _ = r.render_rgb(plan, 0)
    black = [float((im.max(axis=2) == 0).mean()) for im in (one_sided, two_sided)]
    assert black[0] > 0.005 and black[1] < 0.001, black


def test_crumple_is_deterministic_by_seed() -> None:
    size = CATEGORIES["can"].nominal_size
    a = object_mesh("can", size, Deformation(kind="crumple", amplitude=0.2, seed=1)).vertices
    b = object_mesh("can", size, Deformation(kind="crumple", amplitude=0.2, seed=1)).vertices
    c = object_mesh("can", size, Deformation(kind="crumple", amplitude=0.2, seed=2)).vertices
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_tipped_object_lies_on_its_side_on_the_support() -> None:
    mat = Material(color_name="red", rgb=(0.6, 0.04, 0.03))
    up = SceneObject(id="o", category="bottle", material=mat, position=(0.1, 0.2, 0.75),
                     size=CATEGORIES["bottle"].nominal_size, support_id="s")
    tipped = up.model_copy(update={"tipped": True})
    _, _, z0, z1 = world_extent(up)
    _, _, t0, t1 = world_extent(tipped)
    assert z0 == pytest.approx(0.75, abs=1e-5) and t0 == pytest.approx(0.75, abs=1e-5)
    assert (t1 - t0) < 0.5 * (z1 - z0)
    assert world_mesh(tipped).vertices[:, 2].min() == pytest.approx(0.75, abs=1e-5)


def test_box_mesh_volume() -> None:
    m = box_mesh((0.2, 0.3, 0.4), (1.0, 2.0, 3.0))
    assert signed_volume(m.vertices, m.faces) == pytest.approx(0.024, rel=1e-5)


def test_unknown_category_names_choices() -> None:
    with pytest.raises(ConfigError, match="unknown object category 'teapot'.*mug"):
        get_category("teapot")
