"""Material stresses: change only the targets' materials (and, for texture, nothing else)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from robostress.scene.plan import Material, ScenePlan, Texture
from robostress.stress.base import stress
from robostress.stress.common import map_target_materials, support_rgb


@stress("material", "dark_absorptive", measure="target_luminance", direction=-1,
        severities=[{"albedo_scale": s} for s in (0.45, 0.22, 0.11, 0.055, 0.025)])
def dark_absorptive(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """Target albedo drops toward black (a dark, absorptive coating)."""
    return map_target_materials(plan, lambda o, m: m.model_copy(update={"albedo_scale": p["albedo_scale"]}))


@stress("material", "low_contrast_blend", measure="target_contrast", direction=-1,
        severities=[{"blend": t} for t in (0.2, 0.35, 0.5, 0.65, 0.8)])
def low_contrast_blend(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """Target colour converges to the colour of the surface it rests on (camouflage)."""
    def blend(o: Any, m: Material) -> Material:  # works on flat and image-textured albedos alike
        to = tuple(float(c) for c in support_rgb(plan, o))
        return m.model_copy(update={"blend": float(p["blend"]), "blend_rgb": to})
    return map_target_materials(plan, blend)


@stress("material", "complex_texture", measure="target_appearance_change", direction=+1,
        severities=[{"frequency": f, "contrast": c}
                    for f, c in ((3, 0.3), (4, 0.45), (6, 0.6), (8, 0.75), (11, 0.9))])
def complex_texture(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """A high-frequency checker pattern (darker shade of the same hue) covers the targets."""
    tex = Texture(kind="checker", frequency=float(p["frequency"]), contrast=float(p["contrast"]))
    return map_target_materials(plan, lambda o, m: m.model_copy(update={"texture": tex}))


@stress("material", "specular_confusion", measure="target_appearance_change", direction=+1,
        severities=[{"coat_weight": w, "roughness": a}
                    for w, a in ((0.35, 0.3), (0.55, 0.15), (0.72, 0.08), (0.86, 0.04), (0.96, 0.02))])
def specular_confusion(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """A glossy metallic coat: sharper reflections of the neighbours as roughness falls."""
    upd = {"coat_weight": p["coat_weight"], "roughness": p["roughness"]}
    return map_target_materials(plan, lambda o, m: m.model_copy(update=upd))


@stress("material", "transparent", measure="target_appearance_change", direction=+1,
        severities=[{"transmission": t} for t in (0.4, 0.6, 0.8, 0.9, 1.0)])
def transparent(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """Targets turn into glass (a dielectric blended in), faintly tinted by their colour."""
    def glass(o: Any, m: Material) -> Material:
        tint = tuple(float(0.85 + 0.15 * c) for c in m.rgb)
        return m.model_copy(update={"transmission": p["transmission"], "tint": tint})
    return map_target_materials(plan, glass)
