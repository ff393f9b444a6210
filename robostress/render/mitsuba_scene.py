"""Translate a ScenePlan into a Mitsuba 3 scene dictionary (the active variant must be set).

Every shape's dictionary key is its entity id (``sup00``, ``obj03``, ``gripper:palm``...), so
ground-truth passes can map Mitsuba shapes back to plan entities by id, never by order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from robostress.render.camera import look_at_vectors
from robostress.scene.plan import Camera, Light, Material, ScenePlan

ROOM_HALF_EXTENT = 6.0  # metres: the floor and wall reach past any camera we place
GT_SEP = ":"  # shape ids of multi-part entities: "<entity>:<part>"
GRIPPER_BSDF: dict[str, Any] = {"type": "roughplastic", "alpha": 0.3,
                                "diffuse_reflectance": {"type": "rgb", "value": [0.08, 0.08, 0.09]}}


def _rgb(value: Any) -> dict[str, Any]:
    return {"type": "rgb", "value": [float(c) for c in value]}


def material_bsdf(m: Material) -> dict[str, Any]:
    """Layered BSDF: diffuse (optionally textured) -> blend metal coat -> blend glass."""
    albedo = np.clip(np.asarray(m.rgb) * m.albedo_scale, 0.0, 1.0)
    if m.texture is None:
        reflectance: dict[str, Any] = _rgb(albedo)
    else:
        import mitsuba as mi

        f = float(m.texture.frequency)
        scale = [f, f, 1.0] if m.texture.kind == "checker" else [f, 1e-4, 1.0]
        reflectance = {"type": "checkerboard", "color0": _rgb(albedo),
                       "color1": _rgb(albedo * (1.0 - m.texture.contrast)),
                       "to_uv": mi.ScalarTransform4f().scale(scale)}
    bsdf: dict[str, Any] = {"type": "diffuse", "reflectance": reflectance}
    if m.coat_weight > 0:
        coat = {"type": "roughconductor", "material": "none", "distribution": "ggx",
                "alpha": float(m.roughness), "specular_reflectance": _rgb(0.35 + 0.65 * albedo)}
        bsdf = {"type": "blendbsdf", "weight": float(m.coat_weight), "bsdf_0": bsdf, "bsdf_1": coat}
    if m.transmission > 0:
        glass = {"type": "dielectric", "int_ior": 1.5, "specular_transmittance": _rgb(m.tint)}
        bsdf = {"type": "blendbsdf", "weight": float(m.transmission), "bsdf_0": bsdf, "bsdf_1": glass}
    return bsdf


def mesh_shape(name: str, mesh: Any, bsdf: dict[str, Any]) -> Any:
    """A Mitsuba mesh built in memory with its BSDF (works in scalar and JIT variants).

    The scene-dictionary key it is stored under becomes its shape id.
    """
    import mitsuba as mi

    vertices, faces, uv = mesh.vertices, mesh.faces, mesh.uv
    props = mi.Properties()
    props["bsdf"] = mi.load_dict(bsdf)
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

    from robostress.scene.objects import box_mesh, gripper_meshes, world_mesh

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
    for s in plan.supports:
        cz = s.center[2] - s.thickness / 2
        m = box_mesh((s.size[0], s.size[1], s.thickness), (s.center[0], s.center[1], cz))
        d[s.id] = mesh_shape(s.id, m, material_bsdf(s.material))
    for o in plan.objects:
        m = world_mesh(o)
        d[o.id] = mesh_shape(o.id, m, material_bsdf(o.material))
    for light in plan.lights:
        d["light:" + light.id] = _light(light)
    for c in plan.casters:
        d["caster:" + c.id] = {"type": "rectangle", "flip_normals": True,
                               "to_world": T().translate(list(c.center)) @ T().scale([c.size[0] / 2, c.size[1] / 2, 1]),
                               "bsdf": {"type": "diffuse", "reflectance": _rgb((0.0, 0.0, 0.0))}}
    if plan.gripper is not None:
        for part, m in gripper_meshes(plan.gripper):
            key = "gripper" + GT_SEP + part
            d[key] = mesh_shape(key, m, GRIPPER_BSDF)
    return d
