"""The Mitsuba 3 renderer: a ScenePlan in, RGB plus exact ground truth out."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from robostress.errors import ConfigError
from robostress.render.frame import FrameArrays, ObjectGT
from robostress.render.gt import amodal_mask, free_space, object_gt
from robostress.render.mitsuba_scene import GT_SEP, scene_dict, sensor_dict
from robostress.render.variant import set_variant
from robostress.scene.plan import ScenePlan, entity_ids

log = logging.getLogger(__name__)
RENDERER_VERSION = "r1"  # bump when pixels or ground truth change for the same plan
SAMPLERS = ("orthogonal", "multijitter", "ldsampler", "stratified", "independent")


@dataclass(frozen=True)
class RenderSettings:
    """How frames are rendered. Clean and stressed twins always share one settings object."""

    width: int = 256
    height: int = 256
    spp: int = 25
    sampler: str = "orthogonal"
    max_depth: int = 8
    variant: str = "auto"

    def __post_init__(self) -> None:
        if not (8 <= self.width <= 4096 and 8 <= self.height <= 4096):
            raise ConfigError(f"render size must be 8..4096 px, got {self.width}x{self.height}")
        if self.spp < 1:
            raise ConfigError(f"spp must be >= 1, got {self.spp}")
        if self.sampler not in SAMPLERS:
            raise ConfigError(f"unknown sampler {self.sampler!r}; choose one of {SAMPLERS}")
        if self.sampler == "orthogonal" and not _prime_square(self.spp):
            raise ConfigError(f"the orthogonal sampler needs spp = p^2 for a prime p (4, 9, 25, 49, "
                              f"121, ...), got {self.spp}")
        if self.max_depth < 2:
            raise ConfigError(f"max_depth must be >= 2, got {self.max_depth}")


def _prime_square(n: int) -> bool:
    r = int(round(n ** 0.5))
    return r * r == n and r >= 2 and all(r % k for k in range(2, int(r ** 0.5) + 1))


def linear_to_srgb8(x: np.ndarray) -> np.ndarray:
    """Linear RGB floats -> 8-bit sRGB (clipped; deterministic numpy arithmetic)."""
    x = np.clip(np.nan_to_num(x.astype(np.float64), nan=0.0), 0.0, 1.0)
    y = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    return np.round(y * 255.0).astype(np.uint8)


class Renderer:
    """Renders ScenePlans with the best (or the requested) Mitsuba variant."""

    def __init__(self, settings: RenderSettings | None = None) -> None:
        self.settings = settings or RenderSettings()
        self.variant = set_variant(self.settings.variant)
        import mitsuba as mi

        self._mi = mi
        self._aov = mi.load_dict({"type": "aov", "aovs": "dd:depth,si:shape_index,pp:position,nn:sh_normal"})

    def describe(self) -> dict[str, Any]:
        """Settings that determine the pixels (part of every frame's cache key)."""
        d = asdict(self.settings)
        d.update(variant=self.variant, renderer_version=RENDERER_VERSION,
                 mitsuba=self._mi.__version__)
        return d

    def _sampler(self) -> dict[str, Any]:
        return {"type": self.settings.sampler, "sample_count": int(self.settings.spp)}

    def render_rgb(self, plan: ScenePlan, seed: int) -> tuple[np.ndarray, Any]:
        """Path-traced 8-bit sRGB image and the loaded Mitsuba scene."""
        s = self.settings
        scene = self._mi.load_dict(scene_dict(plan, s.width, s.height, self._sampler(), s.max_depth))
        img = np.array(self._mi.render(scene, seed=int(seed) & 0x7FFFFFFF, spp=s.spp))
        return linear_to_srgb8(img[..., :3]), scene

    def render(self, plan: ScenePlan, seed: int) -> FrameArrays:
        """Render ``plan``: RGB, instance ids, depth, free space and amodal masks."""
        rgb, scene = self.render_rgb(plan, seed)
        s = self.settings
        centre = {"type": "stratified", "sample_count": 1, "jitter": False}  # one ray per pixel centre
        sensor = self._mi.load_dict(sensor_dict(plan.camera, s.width, s.height, centre))
        g = np.array(self._mi.render(scene, sensor=sensor, integrator=self._aov, spp=1, seed=0))
        number = {eid: i + 1 for i, eid in enumerate(entity_ids(plan))}
        ids = self._instance_ids(scene, g[..., 1], number)
        depth = g[..., 0].astype(np.float32)
        free = free_space(plan, ids, g[..., 2:5], g[..., 5:8], number)
        arrays = FrameArrays(rgb=rgb, ids=ids, depth=depth, free=free,
                             id_map={v: k for k, v in number.items()})
        for o in plan.objects:
            arrays.amodal[o.id], arrays.amodal_total[o.id] = amodal_mask(plan, o, s.width, s.height)
        return arrays

    def _instance_ids(self, scene: Any, index: np.ndarray, number: dict[str, int]) -> np.ndarray:
        """Map the AOV shape index to plan instance numbers by shape id (never by order)."""
        mi = self._mi
        shapes = list(scene.shapes())
        if self.variant.startswith("scalar"):
            keys = list(range(1, len(shapes) + 1))  # scalar: index into scene.shapes() + 1
        else:
            import drjit as dr  # JIT variants: the shape's registry id

            keys = [int(k) for k in dr.reinterpret_array(mi.UInt32, scene.shapes_dr())]
        lut = np.zeros(max(keys, default=0) + 1, np.uint16)
        for key, shape in zip(keys, shapes, strict=True):
            entity = shape.id().split(GT_SEP)[0]
            lut[key] = number.get(entity, 0)
        idx = np.clip(np.round(index).astype(np.int64), 0, len(lut) - 1)
        return lut[idx]


def frame_objects(plan: ScenePlan, arrays: FrameArrays) -> tuple[ObjectGT, ...]:
    """Per-object ground truth of a rendered frame."""
    return tuple(object_gt(o.id, arrays.mask_of(o.id), arrays.amodal[o.id], arrays.amodal_total[o.id],
                           arrays.rgb) for o in plan.objects)
