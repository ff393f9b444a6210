"""Realised severity measures, computed from a rendered frame (and its clean twin).

Each measure returns a float that moves monotonically with severity for its stress (the
direction is declared by the stress). Empty masks give 0.0, never NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from robostress.core.colour import lab, luminance
from robostress.registry import Registry
from robostress.render.frame import FrameArrays
from robostress.render.noise import CLIP_LEVEL
from robostress.scene.camera import view_direction
from robostress.scene.objects import world_mesh
from robostress.scene.plan import ScenePlan
from robostress.stress.common import OCCLUDER_PREFIX, root_support


@dataclass
class MeasureInput:
    """A stressed frame with its plan, and its clean twin."""

    plan: ScenePlan
    arrays: FrameArrays
    clean_plan: ScenePlan
    clean_arrays: FrameArrays


MEASURES: Registry[Callable[[MeasureInput], float]] = Registry("realised measure")


def measure(name: str, m: MeasureInput) -> float:
    """Compute the measure ``name``."""
    return float(MEASURES.get(name)(m))


def target_mask(plan: ScenePlan, a: FrameArrays) -> np.ndarray:
    """Visible pixels of all targets."""
    out = np.zeros(a.ids.shape, bool)
    for t in plan.targets:
        out |= a.mask_of(t)
    return out


def _mean(x: np.ndarray, mask: np.ndarray) -> float:
    return float(x[mask].mean()) if mask.any() else 0.0


def surround_ring(mask: np.ndarray) -> np.ndarray:
    """The pixels within 1/48 of the image width around ``mask`` (not in it): its surround."""
    w = max(2, mask.shape[1] // 48)
    k = np.ones((2 * w + 1, 2 * w + 1), np.uint8)
    return cv2.dilate(mask.astype(np.uint8), k).astype(bool) & ~mask


def surround_contrast(rgb: np.ndarray, mask: np.ndarray) -> float | None:
    """CIELAB ΔE between the mean colour of ``mask``'s pixels and of its ``surround_ring`` (None
    if either is empty)."""
    ring = surround_ring(mask)
    if not mask.any() or not ring.any():
        return None
    L = lab(rgb)
    return float(np.linalg.norm(L[mask].mean(0) - L[ring].mean(0)))


def _contrast(plan: ScenePlan, a: FrameArrays) -> float:
    c = surround_contrast(a.rgb, target_mask(plan, a))
    return 0.0 if c is None else c


MEASURES.add("target_luminance", lambda m: _mean(luminance(m.arrays.rgb), target_mask(m.plan, m.arrays)))
MEASURES.add("target_contrast", lambda m: _contrast(m.plan, m.arrays))
MEASURES.add("image_luminance", lambda m: float(luminance(m.arrays.rgb).mean()))
MEASURES.add("clipped_fraction", lambda m: float((m.arrays.rgb >= CLIP_LEVEL).any(-1).mean()))
MEASURES.add("target_clipped_fraction",
             lambda m: _mean((m.arrays.rgb >= CLIP_LEVEL).any(-1).astype(float), target_mask(m.plan, m.arrays)))


@MEASURES.register("target_appearance_change")
def _appearance(m: MeasureInput) -> float:
    """Mean CIELAB ΔE between the targets' pixels and the same pixels of the clean twin.

    Used for texture, gloss and glass: how far the material moved the object's look from its
    diffuse appearance. (Contrast against the background and a thresholded "specular pixel
    fraction" were tried first: at 48-64 px they were not monotonic in severity, so they could
    not serve as a realised severity.)
    """
    t = target_mask(m.plan, m.arrays) & target_mask(m.clean_plan, m.clean_arrays)
    d = np.linalg.norm(lab(m.arrays.rgb) - lab(m.clean_arrays.rgb), axis=-1)
    return _mean(d, t)


@MEASURES.register("shadowed_fraction")
def _shadowed(m: MeasureInput) -> float:
    """Share of target pixels darker than half their clean luminance."""
    t = target_mask(m.plan, m.arrays) & target_mask(m.clean_plan, m.clean_arrays)
    return _mean((luminance(m.arrays.rgb) < 0.5 * luminance(m.clean_arrays.rgb)).astype(float), t)


@MEASURES.register("view_angle")
def _view_angle(m: MeasureInput) -> float:
    """Degrees between the clean and stressed viewing directions, plus the change of roll."""
    c = float(np.clip(np.dot(view_direction(m.plan.camera), view_direction(m.clean_plan.camera)), -1, 1))
    return math.degrees(math.acos(c)) + abs(m.plan.camera.roll_deg - m.clean_plan.camera.roll_deg)


@MEASURES.register("target_out_of_frame")
def _out_of_frame(m: MeasureInput) -> float:
    """Share of the first target's amodal silhouette outside the frame."""
    t = m.plan.targets[0]
    total = m.arrays.amodal_total.get(t, 0)
    inside = int((m.arrays.amodal.get(t, np.zeros(1, bool)) | m.arrays.mask_of(t)).sum())
    return 1.0 - inside / max(total, inside) if max(total, inside) else 1.0


MEASURES.add("target_area", lambda m: float(target_mask(m.plan, m.arrays).mean()))


def _visible_fraction(a: FrameArrays, t: str) -> float:
    vis = a.mask_of(t)
    am = int((a.amodal.get(t, np.zeros(vis.shape, bool)) | vis).sum())
    return float(vis.sum() / am) if am else 0.0


@MEASURES.register("target_visible_fraction")
def _visible(m: MeasureInput) -> float:
    """Visible share of the in-frame amodal silhouette of the target an occluder stands before
    (its id names it: ``occ_<target id>``; the first target if there is no occluder)."""
    occ = [o.id for o in m.plan.objects if o.role == "occluder" and o.id.startswith(OCCLUDER_PREFIX)]
    return _visible_fraction(m.arrays, occ[0][len(OCCLUDER_PREFIX):] if occ else m.plan.targets[0])


@MEASURES.register("deformation_amplitude")
def _deformation(m: MeasureInput) -> float:
    """Mean vertex displacement of the targets' meshes, relative to their height."""
    vals = []
    for t in m.plan.targets:
        o = m.plan.object(t)
        flat = m.clean_plan.object(t).model_copy(  # undeformed, on the same (subdivided) mesh
            update={"deformation": o.deformation.model_copy(update={"amplitude": 0.0})})
        a, b = world_mesh(o).vertices, world_mesh(flat).vertices
        vals.append(float(np.linalg.norm(a - b, axis=1).mean()) / o.size[2])
    return float(np.mean(vals)) if vals else 0.0


@MEASURES.register("stack_height")
def _stack(m: MeasureInput) -> float:
    """Metres the stress lifted a target (the one it put on a stack of books)."""
    return max(float(m.plan.object(i).position[2] - m.clean_plan.object(i).position[2]) for i in m.plan.targets)


@MEASURES.register("free_fraction")
def _free(m: MeasureInput) -> float:
    """Free share of the visible top of the first target's support."""
    t = m.clean_plan.object(m.clean_plan.targets[0])
    sup = root_support(m.clean_plan, t).id  # a target stacked on an object: the table under the stack
    num = next((k for k, v in m.arrays.id_map.items() if v == sup), None)
    if num is None:
        return 0.0
    top = m.clean_arrays.free == num  # the clean twin's free area is the reference surface
    denom = int(top.sum())
    return float((m.arrays.free == num).sum() / denom) if denom else 0.0
