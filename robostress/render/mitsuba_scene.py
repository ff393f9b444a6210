"""Translate a ScenePlan into a Mitsuba 3 scene dictionary (the active variant must be set).

Every shape's dictionary key is its entity id (``sup00``, ``obj03``, ``gripper:palm``...), so
ground-truth passes can map Mitsuba shapes back to plan entities by id, never by order.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import numpy as np

from robostress.scene.assets import srgb_to_linear, texture_image
from robostress.scene.camera import look_at_vectors
from robostress.scene.objects import box_mesh, gripper_meshes, world_mesh
from robostress.scene.plan import Camera, Light, Material, ScenePlan, Scenery, Texture
from robostress.scene.robot import robot_parts
from robostress.scene.scenery import load_scenery, scenery_world_mesh

ROOM_HALF_EXTENT = 6.0  # metres: the floor and wall reach past any camera we place
GT_SEP = ":"  # shape ids of multi-part entities: "<entity>:<part>"
ATLAS_FREQUENCY = 4.0  # pattern cells per texture-atlas side per unit of `frequency` (see _albedo_image)
GRIPPER_BSDF: dict[str, Any] = {"type": "roughplastic", "alpha": 0.3,
                                "diffuse_reflectance": {"type": "rgb", "value": [0.08, 0.08, 0.09]}}


def _rgb(value: Any) -> dict[str, Any]:
    return {"type": "rgb", "value": [float(c) for c in value]}


@lru_cache(maxsize=64)
def _linear_texture(key: str) -> np.ndarray:
    """Linear-RGB float image of a texture (decoded once per process; read-only)."""
    img = srgb_to_linear(texture_image(key))
    img.flags.writeable = False
    return img


BAYER = np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]])  # ordered-dither ranks
FLAT_CELLS = 2.0  # cells per uv side per unit of `frequency` on a flat albedo (Mitsuba's checkerboard had 2)


def pattern_tile(t: Texture) -> np.ndarray:
    """Which cells of a 4 x 4 tile take the pattern's second colour (True) under ``t.share``.

    Thresholding Bayer ranks keeps the share exact in every tile (0.5 gives a checkerboard);
    stripes dither whole columns the same way (0.5: columns alternate).
    """
    if t.kind == "stripes":
        return np.broadcast_to(np.array([0, 2, 1, 3]) < round(4 * t.share), (4, 4))
    return BAYER < round(16 * t.share)


def _albedo_image(m: Material) -> np.ndarray:
    """Linear albedo image of an image-textured material with its stresses applied.

    Dark coating scales it, camouflage blends it toward ``blend_rgb``, and a pattern gives the
    cells ``pattern_tile`` picks its second colour, laid out in the image's own uv space. A texture
    atlas packs many uv islands, so the visible surface holds a small part of the atlas: at the
    pattern's own 3-11 cells per side, which cells fell on it decided the realised change (one lab
    scene went 3.6, 8.6, 7.1, 12.6, 17.2 ΔE over s1-s5 with a checker). ``ATLAS_FREQUENCY`` times
    more cells put many cells on every island, so the change follows the severity in every scene.
    """
    img = _linear_texture(str(m.texture_map)) * m.albedo_scale
    img = (1.0 - m.blend) * img + m.blend * np.asarray(m.blend_rgb) * m.albedo_scale
    if m.texture is not None:
        h, w = img.shape[:2]
        f = float(m.texture.frequency) * ATLAS_FREQUENCY
        col = np.floor((np.arange(w) + 0.5) / w * f).astype(int) % 4
        row = np.floor((np.arange(h) + 0.5) / h * f).astype(int) % 4
        cell = pattern_tile(m.texture)[row[:, None], col[None, :]]
        t = m.texture
        second = (1.0 - t.contrast) * img + t.contrast * np.asarray(t.rgb2)
        img = np.where(cell[..., None], second, img)
    return np.ascontiguousarray(np.clip(img, 0.0, 1.0), np.float32)


def _image_texture(m: Material) -> Any:
    """The loaded Mitsuba bitmap of an image-textured material, shared between frames.

    Building it (``_albedo_image`` on a 1024 x 1024 atlas and the upload) took 17 ms an object,
    0.3 s a lab frame; the frames of a scene repeat all but the stressed object's textures. The
    key holds every field the image depends on, so a shared texture is the one a fresh load gives.
    """
    import mitsuba as mi

    key = mi.variant() + m.model_dump_json(include=_TEXTURE_FIELDS)
    tex = _TEXTURE_CACHE.pop(key, None)
    if tex is None:
        tex = mi.load_dict({"type": "bitmap", "data": mi.TensorXf(_albedo_image(m)), "raw": True,
                            "to_uv": mi.ScalarTransform4f().scale([m.uv_scale, m.uv_scale, 1.0])})
    _TEXTURE_CACHE[key] = tex  # most recently used last
    while len(_TEXTURE_CACHE) > TEXTURE_CACHE_SIZE:
        _TEXTURE_CACHE.pop(next(iter(_TEXTURE_CACHE)))
    return tex


TEXTURE_CACHE_SIZE = 48  # loaded atlases kept (12 MB each at 1024 x 1024): about 3 lab scenes' worth
_TEXTURE_FIELDS = {"texture_map", "albedo_scale", "blend", "blend_rgb", "texture", "uv_scale"}
_TEXTURE_CACHE: dict[str, Any] = {}


def _pattern_bitmap(albedo: np.ndarray, t: Texture) -> dict[str, Any]:
    """A flat albedo under a pattern: one 4 x 4 texel tile, repeated, read without filtering."""
    import mitsuba as mi

    second = np.clip((1.0 - t.contrast) * albedo + t.contrast * np.asarray(t.rgb2), 0.0, 1.0)
    tile = np.where(pattern_tile(t)[..., None], second, albedo)
    f = float(t.frequency) * FLAT_CELLS / 4
    return {"type": "bitmap", "data": mi.TensorXf(np.ascontiguousarray(tile, np.float32)), "raw": True,
            "filter_type": "nearest", "wrap_mode": "repeat", "to_uv": mi.ScalarTransform4f().scale([f, f, 1.0])}


def material_bsdf(m: Material, two_sided: bool = False) -> dict[str, Any]:
    """Layered BSDF: diffuse (image-textured, patterned or flat) -> blend metal coat -> blend glass.

    ``two_sided`` (an opaque material only) shades back faces like front ones: a deformed mesh
    can fold (a crumpled or strongly twisted box), and the inside of a fold, a back face, would
    otherwise render pure black.
    """
    albedo = np.clip(np.asarray(m.effective_rgb()), 0.0, 1.0)
    if m.texture_map is not None:
        reflectance: Any = _image_texture(m)
    elif m.texture is None:
        reflectance = _rgb(albedo)
    else:
        reflectance = _pattern_bitmap(albedo, m.texture)
    bsdf: dict[str, Any] = {"type": "diffuse", "reflectance": reflectance}
    if m.coat_weight > 0:
        coat = {"type": "roughconductor", "material": "none", "distribution": "ggx",
                "alpha": float(m.roughness), "specular_reflectance": _rgb(0.35 + 0.65 * albedo)}
        bsdf = {"type": "blendbsdf", "weight": float(m.coat_weight), "bsdf_0": bsdf, "bsdf_1": coat}
    if m.transmission > 0:
        glass = {"type": "dielectric", "int_ior": 1.5, "specular_transmittance": _rgb(m.tint)}
        bsdf = {"type": "blendbsdf", "weight": float(m.transmission), "bsdf_0": bsdf, "bsdf_1": glass}
    elif two_sided:
        bsdf = {"type": "twosided", "bsdf": bsdf}
    return bsdf


def _loaded_bsdf(bsdf: dict[str, Any]) -> Any:
    """``mi.load_dict(bsdf)``, shared between shapes and frames when the dictionary is plain data.

    Loading a rough plastic precomputes Fresnel tables (~40 ms); a robot has ~30 parts in a
    few colours, so loading each distinct one once keeps scene building cheap.
    """
    import mitsuba as mi

    try:
        key = json.dumps(bsdf, sort_keys=True)
    except TypeError:  # holds Mitsuba objects (bitmaps, transforms): not shareable by value
        return mi.load_dict(bsdf)
    key = mi.variant() + key
    if key not in _BSDF_CACHE:
        if len(_BSDF_CACHE) > 256:
            _BSDF_CACHE.clear()
        _BSDF_CACHE[key] = mi.load_dict(bsdf)
    return _BSDF_CACHE[key]


_BSDF_CACHE: dict[str, Any] = {}


def mesh_shape(name: str, mesh: Any, bsdf: dict[str, Any]) -> Any:
    """A Mitsuba mesh built in memory with its BSDF (works in scalar and JIT variants).

    The scene-dictionary key it is stored under becomes its shape id.
    """
    import mitsuba as mi

    vertices, faces, uv = mesh.vertices, mesh.faces, mesh.uv
    props = mi.Properties()
    props["bsdf"] = _loaded_bsdf(bsdf)
    m = mi.Mesh(name, int(len(vertices)), int(len(faces)), props=props, has_vertex_normals=False,
                has_vertex_texcoords=uv is not None)
    p = mi.traverse(m)
    p["vertex_positions"] = type(p["vertex_positions"])(np.ascontiguousarray(vertices, np.float32).ravel())
    p["faces"] = type(p["faces"])(np.ascontiguousarray(faces, np.uint32).ravel())
    if uv is not None:
        p["vertex_texcoords"] = type(p["vertex_texcoords"])(np.ascontiguousarray(uv, np.float32).ravel())
    p.update()
    return m


def sensor_dict(cam: Camera, width: int, height: int, sampler: dict[str, Any]) -> dict[str, Any]:
    """Perspective sensor with a box filter (bit-stable floats) and the given sampler."""
    import mitsuba as mi

    o, t, up = look_at_vectors(cam)
    return {
        "type": "perspective", "fov": float(cam.fov_deg), "fov_axis": "x",
        "near_clip": 0.01, "far_clip": 100.0,
        "to_world": mi.ScalarTransform4f().look_at(origin=o.tolist(), target=t.tolist(), up=up.tolist()),
        "film": {"type": "hdrfilm", "width": int(width), "height": int(height),
                 "rfilter": {"type": "box"}, "pixel_format": "rgb"},
        "sampler": sampler,
    }


def batch_sensor_dict(cam: Camera, width: int, height: int, sampler: dict[str, Any], k: int) -> dict[str, Any]:
    """``k`` copies of the camera side by side in one ``k*width x height`` film (Mitsuba's batch
    sensor): one render call gives k passes with independent samples (distinct film pixels)."""
    one = sensor_dict(cam, width, height, sampler)
    film = one.pop("film")
    film["width"] = int(k * width)
    one.pop("sampler")
    d: dict[str, Any] = {"type": "batch", "film": film, "sampler": sampler}
    for i in range(k):
        d[f"pass{i}"] = dict(one)
    return d


def _light(light: Light) -> dict[str, Any]:
    import mitsuba as mi

    radiance = _rgb(np.asarray(light.color) * light.intensity)
    if light.kind == "ambient":
        return {"type": "constant", "radiance": radiance}
    frame = mi.ScalarTransform4f().look_at(origin=list(light.position), target=list(light.target),
                                           up=_any_up(light.position, light.target))
    if light.kind == "spot":
        return {"type": "spot", "to_world": frame, "intensity": radiance,
                "cutoff_angle": float(light.cutoff_deg), "beam_width": 0.7 * float(light.cutoff_deg)}
    return {"type": "rectangle", "to_world": frame @ mi.ScalarTransform4f().scale(light.size / 2),
            "emitter": {"type": "area", "radiance": radiance},
            "bsdf": {"type": "diffuse", "reflectance": _rgb((0.0, 0.0, 0.0))}}


def _any_up(origin: Any, target: Any) -> list[float]:
    d = np.asarray(target, float) - np.asarray(origin, float)
    return [0.0, 1.0, 0.0] if abs(d[0]) < 1e-6 and abs(d[1]) < 1e-6 else [0.0, 0.0, 1.0]


def scene_dict(plan: ScenePlan, width: int, height: int, sampler: dict[str, Any],
               max_depth: int = 8) -> dict[str, Any]:
    """The full Mitsuba scene dictionary of ``plan``."""
    import mitsuba as mi

    T = mi.ScalarTransform4f
    d: dict[str, Any] = {
        "type": "scene",
        "integrator": {"type": "path", "max_depth": int(max_depth), "hide_emitters": True},
        "sensor": sensor_dict(plan.camera, width, height, sampler),
        "room:floor": {"type": "rectangle", "to_world": T().scale([ROOM_HALF_EXTENT] * 3),
                       "bsdf": material_bsdf(plan.room.floor)},
    }
    if plan.room.wall is not None and plan.room.wall_y is not None:
        d["room:wall"] = {"type": "rectangle", "bsdf": material_bsdf(plan.room.wall),
                          "to_world": T().translate([0, plan.room.wall_y, ROOM_HALF_EXTENT])
                          @ T().rotate([1, 0, 0], 90) @ T().scale([ROOM_HALF_EXTENT] * 3)}
    if plan.room.side_x is not None and plan.room.wall is not None:
        for sign, name in ((-1, "left"), (1, "right")):
            d["room:" + name] = {"type": "rectangle", "bsdf": material_bsdf(plan.room.wall),
                                 "to_world": T().translate([sign * plan.room.side_x, 0, ROOM_HALF_EXTENT])
                                 @ T().rotate([0, 1, 0], -90 * sign) @ T().scale([ROOM_HALF_EXTENT] * 3)}
    for s in plan.supports:
        cz = s.center[2] - s.thickness / 2
        m = box_mesh((s.size[0], s.size[1], s.thickness), (s.center[0], s.center[1], cz))
        d[s.id] = mesh_shape(s.id, m, material_bsdf(s.material))
        if s.legs:
            h = s.center[2] - s.thickness
            for i, (sx, sy) in enumerate(((-1, -1), (-1, 1), (1, -1), (1, 1))):
                c = (s.center[0] + sx * (s.size[0] / 2 - 0.05), s.center[1] + sy * (s.size[1] / 2 - 0.05), h / 2)
                key = f"room:{s.id}_leg{i}"  # legs are part of the room, not of the support's free top
                d[key] = mesh_shape(key, box_mesh((0.05, 0.05, h), c), material_bsdf(s.material))
    for o in plan.objects:
        m = world_mesh(o)
        d[o.id] = mesh_shape(o.id, m, material_bsdf(o.material, two_sided=o.deformation.kind != "none"))
    for light in plan.lights:
        d["light:" + light.id] = _light(light)
    for c in plan.casters:
        d["caster:" + c.id] = {"type": "rectangle", "flip_normals": True,
                               "to_world": T().translate(list(c.center)) @ T().scale([c.size[0] / 2, c.size[1] / 2, 1]),
                               "bsdf": {"type": "diffuse", "reflectance": _rgb((0.0, 0.0, 0.0))}}
    for sc in plan.scenery or ():  # an environment's background pieces: part of the room (id 0)
        d["room:" + sc.id] = mesh_shape("room:" + sc.id, scenery_world_mesh(sc), _scenery_bsdf(sc))
    if plan.robot is not None:
        b = plan.robot.position  # the arm stands on a dark pedestal that reaches the floor
        d["robot:pedestal"] = mesh_shape("robot:pedestal", box_mesh((0.2, 0.2, b[2]), (b[0], b[1], b[2] / 2)),
                                         {"type": "roughplastic", "alpha": 0.3, "diffuse_reflectance": _rgb((0.05,) * 3)})
        for p in robot_parts(plan.robot):  # the hand and fingers are the gripper entity
            entity = "gripper" if p.name.startswith(("hand", "finger")) else "robot"
            key = entity + GT_SEP + p.name
            d[key] = mesh_shape(key, p, {"type": "roughplastic", "alpha": 0.25,
                                         "diffuse_reflectance": _rgb(p.rgb)})
    elif plan.gripper is not None:
        for part, m in gripper_meshes(plan.gripper):
            key = "gripper" + GT_SEP + part
            d[key] = mesh_shape(key, m, GRIPPER_BSDF)
    return d


# --- environment scenery (issue 24): plans without scenery never reach this code ---------------


def _scenery_bsdf(sc: Scenery) -> dict[str, Any]:
    """A box's surface material, or a scenery mesh's own texture (diffuse, shared between frames)."""
    if sc.kind == "box":
        assert sc.material is not None
        return material_bsdf(sc.material)
    return {"type": "diffuse", "reflectance": _scenery_bitmap(str(sc.asset))}


def _scenery_bitmap(asset: str) -> Any:
    import mitsuba as mi

    key = mi.variant() + "|scenery|" + asset
    if key not in _SCENERY_BITMAPS:
        img = np.ascontiguousarray(srgb_to_linear(load_scenery(asset).texture), np.float32)
        _SCENERY_BITMAPS[key] = mi.load_dict({"type": "bitmap", "data": mi.TensorXf(img), "raw": True})
    return _SCENERY_BITMAPS[key]


_SCENERY_BITMAPS: dict[str, Any] = {}
