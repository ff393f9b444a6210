"""Material stresses: change only the targets' materials (and, for texture, nothing else)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from robostress.core.colour import PALETTE, lab_linear
from robostress.scene.plan import Material, ScenePlan, Texture
from robostress.stress.base import stress
from robostress.stress.camouflage import blend_toward
from robostress.stress.common import map_target_materials


@stress("material", "dark_absorptive", measure="target_luminance", direction=-1,
        severities=[{"albedo_scale": s} for s in (0.45, 0.22, 0.11, 0.055, 0.025)])
def dark_absorptive(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """Target albedo drops toward black (a dark, absorptive coating)."""
    return map_target_materials(plan, lambda o, m: m.model_copy(update={"albedo_scale": p["albedo_scale"]}))


@stress("material", "low_contrast_blend", measure="target_contrast", direction=-1,
        severities=[{"blend": t} for t in (0.2, 0.35, 0.5, 0.65, 0.8)])
def low_contrast_blend(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """Target colour converges to the colour of its surround in the image (camouflage).

    The albedo (flat or image-textured alike) is blended toward the flat colour at which the
    target's pixels would look like the pixels around it, found from small probe renders of the
    clean plan (``robostress.stress.camouflage``); where that colour is out of reach, the blend
    stops where the contrast is least. Blending toward the table's albedo instead
    ignored that the object and the table around it are lit differently: the image contrast
    passed its minimum before s5 and rose again in 2 of 16 lab scenes.
    """
    return blend_toward(plan, float(p["blend"]))


FOREIGN_COLOURS = ("red", "green", "blue", "yellow", "orange", "purple", "pink", "cyan")


def foreign_rgb(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    """The saturated palette colour farthest (CIELAB) from an albedo: red gets green, blue gets
    yellow, white purple, black and gray yellow (deterministic, so every severity and every
    build prints the same second colour on the same object)."""
    own = lab_linear(np.asarray(rgb))
    name = max(FOREIGN_COLOURS, key=lambda c: float(np.linalg.norm(lab_linear(np.asarray(PALETTE[c])) - own)))
    return PALETTE[name]


@stress("material", "complex_texture", measure="target_appearance_change", direction=+1,
        severities=[{"frequency": f, "share": s, "contrast": c}
                    for f, s, c in ((6, 0.25, 0.6), (7, 0.375, 0.7), (8, 0.5, 0.8), (10, 0.625, 0.9), (14, 0.75, 1.0))])
def complex_texture(plan: ScenePlan, p: Mapping[str, Any], g: np.random.Generator) -> ScenePlan:
    """A printed two-colour wrap: cells of a foreign hue spread over the targets' own albedo.

    The second colour is the saturated palette colour farthest from the target's base albedo
    (``foreign_rgb``), so it changes hue, not only lightness: a darker shade of the same hue (the
    earlier design) left a reader of hue untouched at every severity. Severity raises the cell
    frequency, the share of foreign cells (1/4 -> 3/4; an ordered dither keeps that share exact
    in every small patch, so the realised change does not depend on which part of the surface
    is in view) and how fully they take the foreign colour. From s3 the foreign colour covers
    half the object or more, and questions about its colour are dropped (``colour_undefined``).
    Frequencies start at 6, not 3 as the checker's did: at 3 a small target showed so few cells
    that its s1 print could change it more than s2 (a pyramid: 29.0 then 25.9 ΔE at 256 px);
    from 6, 26 tabletop scenes and 8 lab scenes rise at every step.
    """
    def wrap(o: Any, m: Material) -> Material:
        tex = Texture(kind="checker", frequency=float(p["frequency"]), contrast=float(p["contrast"]),
                      share=float(p["share"]), rgb2=foreign_rgb(m.rgb))
        return m.model_copy(update={"texture": tex})
    return map_target_materials(plan, wrap)


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
