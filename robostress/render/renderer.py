"""The Mitsuba 3 renderer: a ScenePlan in, RGB plus exact ground truth out."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from importlib.metadata import version
from typing import Any

import numpy as np

from robostress.core.colour import lab, linear_to_srgb8
from robostress.errors import ConfigError
from robostress.render.frame import FrameArrays, ObjectGT
from robostress.render.gt import amodal_mask, free_space, object_gt
from robostress.render.mitsuba_scene import GT_SEP, batch_sensor_dict, scene_dict, sensor_dict
from robostress.render.noise import (
    NoiseRef,
    PassStack,
    frame_noise,
    make_ref,
    noise_ratio,
    srgb_levels,
    target_mask,
    twin_ratios,
    unchanged_mask,
)
from robostress.render.variant import set_variant
from robostress.scene.plan import ScenePlan, entity_ids
from robostress.seeding import derive_seed

log = logging.getLogger(__name__)
RENDERER_VERSION = "r10"  # r10: passes added one at a time (ladder 2, 3, 4, 6, 8, 12, 16 passes), not doubled; r9: denoised passes (Open Image Denoise, albedo and normal), rendered side by side in one batch; noise matched on all non-clipped and on target pixels of the 8-bit frame; r8: mesh vertices on a 2^-20 m grid (the same on every machine); r7: clipped pixels are not counted as unchanged when matching noise (a clipped mug gave a ratio of 118); r6: a deformed object is shaded two-sided (the inside of a crumple fold rendered black); r5: a deformed mesh is subdivided before the deformation (a twisted coarse box showed black back faces); r4: complex_texture prints a foreign hue (Bayer-dithered two-colour cells); bump when pixels or ground truth change for the same plan
SAMPLERS = ("orthogonal", "multijitter", "ldsampler", "stratified", "independent")
DENOISERS = (None, "oidn")
OIDN_QUALITIES = ("fast", "balanced", "high")


@dataclass(frozen=True)
class RenderSettings:
    """How frames are rendered. Clean and stressed twins always share one settings object.

    A frame is the mean of ``passes`` independent passes of ``spp`` samples each (seeds derived
    from the frame seed); the spread between passes measures its noise. A stressed frame whose
    noise on unchanged pixels exceeds ``noise_ratio`` x its clean twin's gets more passes, in
    steps of ``spp_ladder`` (multiples of ``passes``), so render noise is never a second stress.

    With ``denoise="oidn"`` each pass is denoised by Intel Open Image Denoise on its own, guided
    by the frame's antialiased albedo and normal (``Renderer._aux``; the passes stay independent,
    so their spread still measures the frame's noise), and the passes of a step are rendered side
    by side in one call (a batch sensor: one trace instead of one per pass). ``match`` names the
    pixel sets whose noise must stay within ``noise_ratio`` of the clean twin's (render/noise.py).
    """

    width: int = 256
    height: int = 256
    spp: int = 2  # per pass (2 denoised passes: 4 spp a frame); chosen by bench/noise.py, see renderers/auto.yaml
    sampler: str = "multijitter"
    max_depth: int = 8
    variant: str = "auto"
    passes: int = 2
    noise_ratio: float | None = 1.15  # None: never add passes (twins still share spp and sampler)
    spp_ladder: tuple[float, ...] = (1, 1.5, 2, 3, 4, 6, 8)  # x passes: 2, 3, 4, 6, 8, 12, 16 passes
    denoise: str | None = "oidn"  # None: raw path-traced passes (renderer r8's pipeline)
    denoise_quality: str = "fast"
    match: tuple[str, ...] = ("unchanged", "whole", "target")  # pixel sets whose noise is matched

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
        if self.sampler == "ldsampler" and not _power_of_four(self.spp):
            raise ConfigError(f"the ldsampler needs spp = a square power of two (4, 16, 64, 256, ...), "
                              f"got {self.spp}")
        if self.sampler == "multijitter" and self.spp % math.isqrt(self.spp):
            k = math.isqrt(self.spp)
            raise ConfigError(f"the multijitter sampler needs spp = a x b with a = floor(sqrt(spp)) "
                              f"(4, 6, 8, 9, 12, 16, 20, 24, ...); {self.spp} would silently become "
                              f"{k * -(-self.spp // k)}")
        if self.max_depth < 2:
            raise ConfigError(f"max_depth must be >= 2, got {self.max_depth}")
        if self.passes < 2:
            raise ConfigError(f"passes must be >= 2 (the noise estimate compares independent passes), "
                              f"got {self.passes}")
        if self.noise_ratio is not None and self.noise_ratio < 1.0:
            raise ConfigError(f"noise_ratio must be >= 1.0 (stressed/clean noise allowed), or null to "
                              f"turn matching off; got {self.noise_ratio}")
        ladder = tuple(self.spp_ladder)
        if not ladder or ladder[0] != 1 or any(b <= a for a, b in zip(ladder, ladder[1:], strict=False)):
            raise ConfigError(f"spp_ladder must start at 1 and increase strictly (e.g. [1, 1.5, 2, 3, 4]), "
                              f"got {list(ladder)}")
        if any(abs(k * self.passes - round(k * self.passes)) > 1e-9 for k in ladder):
            raise ConfigError(f"spp_ladder x passes must be whole pass counts; {list(ladder)} x {self.passes} "
                              f"passes is not")
        object.__setattr__(self, "spp_ladder", tuple(int(k) if float(k).is_integer() else float(k)
                                                     for k in ladder))
        if self.denoise not in DENOISERS:
            raise ConfigError(f"unknown denoiser {self.denoise!r}; choose one of {list(DENOISERS)} "
                              f"(null: raw passes)")
        if self.denoise_quality not in OIDN_QUALITIES:
            raise ConfigError(f"denoise_quality must be one of {OIDN_QUALITIES}, got {self.denoise_quality!r}")
        match = tuple(self.match)
        if not match or set(match) - set(MATCH_SETS):
            raise ConfigError(f"match must name one or more of {MATCH_SETS}, got {list(match)}")
        object.__setattr__(self, "match", match)


MATCH_SETS = ("unchanged", "whole", "target")
GUIDE_SPP = 4  # samples a pixel of the denoiser's albedo / normal guides


def render_settings(renderer: Mapping[str, Any], width: int, height: int) -> RenderSettings:
    """RenderSettings from a ``renderer`` config (a renderers/*.yaml mapping) at a size; a field the
    config omits takes the dataclass default, an unknown one is a ConfigError."""
    known = {f.name for f in fields(RenderSettings)} - {"width", "height"}
    unknown = sorted(set(renderer) - known)
    if unknown:
        raise ConfigError(f"unknown renderer setting(s) {unknown}; known: {sorted(known)}")
    kw: dict[str, Any] = {k: renderer[k] for k in known if k in renderer}
    for k in ("spp_ladder", "match"):
        if k in kw:
            kw[k] = tuple(kw[k])
    return RenderSettings(width=int(width), height=int(height), **kw)


def _power_of_four(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0 and (n.bit_length() - 1) % 2 == 0


def _prime_square(n: int) -> bool:
    r = int(round(n ** 0.5))
    return r * r == n and r >= 2 and all(r % k for k in range(2, int(r ** 0.5) + 1))


@dataclass
class Rendered:
    """One rendered frame with its noise record and, for a clean frame, its matching reference."""

    arrays: FrameArrays
    noise: dict[str, Any]  # spp (total), passes, noise (mean, sRGB levels), ratio, unchanged_px
    ref: NoiseRef | None  # the clean twin's reference (None for stressed frames)
    linear: np.ndarray  # H x W x 3 linear RGB mean of the passes (before 8-bit sRGB encoding)


class Renderer:
    """Renders ScenePlans with the best (or the requested) Mitsuba variant."""

    def __init__(self, settings: RenderSettings | None = None) -> None:
        self.settings = settings or RenderSettings()
        self.variant = set_variant(self.settings.variant)
        import mitsuba as mi

        self._mi = mi
        self._aov = mi.load_dict({"type": "aov", "aovs": "dd:depth,si:shape_index,pp:position,nn:sh_normal"})
        self._denoise = _oidn(self.settings.denoise_quality) if self.settings.denoise else None
        self._guide = mi.load_dict({"type": "aov", "aovs": "a:albedo,n:sh_normal"}) if self._denoise else None

    def describe(self) -> dict[str, Any]:
        """Settings that determine the pixels (part of every frame's cache key)."""
        d = asdict(self.settings)
        d.update(variant=self.variant, renderer_version=RENDERER_VERSION,
                 mitsuba=self._mi.__version__)
        if self.settings.denoise:
            d["oidn"] = version("pyoidn")
        return d

    def _sampler(self) -> dict[str, Any]:
        return {"type": self.settings.sampler, "sample_count": int(self.settings.spp)}

    def _activate(self) -> None:
        """Make this renderer's variant the active one: Mitsuba's variant is process-wide, and
        another Renderer (a probe, a test's second renderer) may have switched it since."""
        if self._mi.variant() != self.variant:
            self._mi.set_variant(self.variant)

    def load(self, plan: ScenePlan) -> Any:
        """The Mitsuba scene of ``plan`` with this renderer's sensor, sampler and integrator."""
        self._activate()
        s = self.settings
        return self._mi.load_dict(scene_dict(plan, s.width, s.height, self._sampler(), s.max_depth))

    def add_passes(self, scene: Any, seed: int, stack: PassStack, total: int,
                   aux: tuple[Any, np.ndarray, np.ndarray] | None = None) -> None:
        """Render passes ``stack.n .. total-1``; pass i's seed depends only on (seed, i).

        Raw passes are one render call each. Denoised passes need ``aux``: the plan's camera and
        the antialiased albedo and normal of the frame (``_aux``). They are
        rendered side by side, all passes of a step in one call (a batch sensor whose
        sub-images take independent samples), and each is denoised on its own, so the passes
        stay independent and their spread still measures the frame's noise. The step's seed
        depends only on (seed, first pass, number of passes).
        """
        if self._denoise is None:
            while stack.n < total:
                pass_seed = derive_seed(int(seed), "pass", stack.n) & 0x7FFFFFFF
                stack.add(np.array(self._mi.render(scene, seed=pass_seed, spp=self.settings.spp)))
            return
        k = total - stack.n
        if k <= 0:
            return
        if aux is None:
            raise ValueError("denoised passes need the camera, albedo and normal (Renderer._aux)")
        camera, albedo, normal = aux
        s = self.settings
        step_seed = derive_seed(int(seed), "passes", stack.n, k) & 0x7FFFFFFF
        sensor = self._mi.load_dict(batch_sensor_dict(camera, s.width, s.height, self._sampler(), k))
        img = np.array(self._mi.render(scene, sensor=sensor, seed=step_seed, spp=s.spp))
        for i in range(k):
            stack.add(self._denoise(img[:, i * s.width:(i + 1) * s.width, :3], albedo, normal))

    def render_linear(self, plan: ScenePlan, seed: int) -> tuple[np.ndarray, Any]:
        """Linear RGB mean of the base passes (no matching, no ground truth) and the scene: the
        pixels ``render_twin`` gives an unmatched frame."""
        scene = self.load(plan)
        stack = PassStack()
        aux = self._aux(plan, scene, seed) if self._denoise else None
        self.add_passes(scene, seed, stack, self.settings.passes, aux)
        return stack.mean_linear(), scene

    def render_rgb(self, plan: ScenePlan, seed: int) -> tuple[np.ndarray, Any]:
        """Path-traced 8-bit sRGB image at the base pass count (no matching) and the scene."""
        linear, scene = self.render_linear(plan, seed)
        return linear_to_srgb8(linear), scene

    def render(self, plan: ScenePlan, seed: int) -> FrameArrays:
        """Render ``plan``: RGB, instance ids, depth, free space and amodal masks."""
        return self.render_twin(plan, seed).arrays

    def render_twin(self, plan: ScenePlan, seed: int, clean: NoiseRef | None = None) -> Rendered:
        """Render ``plan``; with ``clean`` (the clean twin's reference) match its noise.

        Passes are added on the spp ladder until the noise on each pixel set of
        ``settings.match`` is within ``noise_ratio`` of the clean twin's on the same pixels, or
        the ladder ends (recorded, not hidden). The record holds the frame's own 8-bit noise on
        its non-clipped and its targets' pixels, and the stressed / clean ratios.
        """
        s = self.settings
        scene = self.load(plan)
        g = self._gt_pass(plan, scene)
        arrays = self._ground_truth(plan, scene, g)
        aux = self._aux(plan, scene, seed) if self._denoise else None
        stack = PassStack()
        mask = None
        ratios: dict[str, float | None] = {}
        worst = None
        matching = clean is not None and s.noise_ratio is not None
        for step in s.spp_ladder if matching else (1,):
            self.add_passes(scene, seed, stack, round(step * s.passes), aux)
            linear, noise = stack.mean_linear(), stack.noise()
            levels = srgb_levels(linear)
            if clean is None:
                continue
            if "unchanged" in s.match or not matching:
                if mask is None:  # decided once, on the base passes (a 5x5 median shrugs off noise)
                    mask = unchanged_mask(clean, stack, arrays.ids, arrays.id_map, arrays.depth)
                ratios["unchanged"] = noise_ratio(clean, noise, mask)
            if clean.clipped is not None:
                ratios.update(twin_ratios(clean, noise, levels, arrays.ids, arrays.id_map, plan.targets))
            worst = max((v for k, v in ratios.items() if k in s.match and v is not None), default=None)
            if not matching or worst is None or worst <= s.noise_ratio:  # type: ignore[operator]
                break
        if matching and worst is not None and worst > s.noise_ratio:  # type: ignore[operator]
            log.warning("noise ratio %.2f > %.2f after %d passes (ladder ended)", worst, s.noise_ratio, stack.n)
        arrays.rgb = linear_to_srgb8(linear)
        own = frame_noise(noise, levels, target_mask(arrays.ids, arrays.id_map, plan.targets))
        r = {k: (None if v is None else round(v, 4)) for k, v in ratios.items()}
        record = {"spp": s.spp * stack.n, "passes": stack.n, "noise": round(float(noise.mean()), 4),
                  "ratio": r.get("unchanged"), "unchanged_px": 0 if mask is None else int(mask.sum()),
                  "noise8": own["whole"], "target_noise8": own["target"],
                  "whole_ratio": r.get("whole"), "target_ratio": r.get("target")}
        ref = make_ref(stack, arrays.ids, arrays.id_map, arrays.depth) if clean is None else None
        return Rendered(arrays, record, ref, linear)

    def _gt_pass(self, plan: ScenePlan, scene: Any) -> np.ndarray:
        """One ray per pixel centre: depth, shape index, position, normal (H x W x 8)."""
        s = self.settings
        centre = {"type": "stratified", "sample_count": 1, "jitter": False}  # one ray per pixel centre
        sensor = self._mi.load_dict(sensor_dict(plan.camera, s.width, s.height, centre))
        return np.array(self._mi.render(scene, sensor=sensor, integrator=self._aov, spp=1, seed=0))

    def _aux(self, plan: ScenePlan, scene: Any, seed: int) -> tuple[Any, np.ndarray, np.ndarray]:
        """The denoiser's guides: camera, albedo and normal averaged over ``GUIDE_SPP`` jittered
        samples a pixel (first hit only, no light transport; 0.02 s at 256 px). Antialiased guides
        keep texture and edges that one ray per pixel centre aliases: with centre guides the
        denoiser kept 86 % of a printed texture's fine detail (high-pass energy on the target
        against a 512-spp raw render) at 256 px and 63 % at 96 px, with these 104 % and 105 % (a
        one-off comparison; tests/render/test_denoise.py holds it at >= 85 %); they are
        noise-free enough to be passed to OIDN as clean (``clean_aux``)."""
        s = self.settings
        sampler = {"type": "multijitter", "sample_count": GUIDE_SPP}
        sensor = self._mi.load_dict(sensor_dict(plan.camera, s.width, s.height, sampler))
        g = np.array(self._mi.render(scene, sensor=sensor, integrator=self._guide, spp=GUIDE_SPP,
                                     seed=derive_seed(int(seed), "guide") & 0x7FFFFFFF))
        return plan.camera, g[..., 0:3], g[..., 3:6]  # the AOV integrator alone writes only its AOVs

    def _ground_truth(self, plan: ScenePlan, scene: Any, g: np.ndarray | None = None) -> FrameArrays:
        """Ids, depth, free space and amodal masks from one ray per pixel centre (rgb left empty)."""
        s = self.settings
        if g is None:
            g = self._gt_pass(plan, scene)
        number = {eid: i + 1 for i, eid in enumerate(entity_ids(plan))}
        ids = self._instance_ids(scene, g[..., 1], number)
        depth = g[..., 0].astype(np.float32)
        free = free_space(plan, ids, g[..., 2:5], g[..., 5:8], number)
        arrays = FrameArrays(rgb=np.zeros((s.height, s.width, 3), np.uint8), ids=ids, depth=depth,
                             free=free, id_map={v: k for k, v in number.items()})
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


def _oidn(quality: str) -> Any:
    """Open Image Denoise on linear HDR colour with albedo and normal, as a function of three
    H x W x 3 arrays (ConfigError with the install command when pyoidn is missing)."""
    try:
        import pyoidn
    except ImportError as e:
        raise ConfigError("renderer denoise=oidn needs the pyoidn package: pip install pyoidn "
                          "(or set renderer.denoise=null for raw passes)") from e

    def run(rgb: np.ndarray, albedo: np.ndarray, normal: np.ndarray) -> np.ndarray:
        f32 = np.float32
        colour = np.ascontiguousarray(np.maximum(np.nan_to_num(rgb, nan=0.0), 0.0), f32)
        return np.asarray(pyoidn.denoise(colour, np.ascontiguousarray(np.clip(albedo, 0.0, 1.0), f32),
                                         np.ascontiguousarray(np.clip(normal, -1.0, 1.0), f32),
                                         hdr=True, clean_aux=True, quality=quality), np.float64)

    return run


def frame_objects(plan: ScenePlan, arrays: FrameArrays) -> tuple[ObjectGT, ...]:
    """Per-object ground truth of a rendered frame."""
    lab_img = lab(arrays.rgb)  # once per frame: it was 0.08 s a frame converted per object
    return tuple(object_gt(o.id, arrays.mask_of(o.id), arrays.amodal[o.id], arrays.amodal_total[o.id],
                           arrays.rgb, lab_img) for o in plan.objects)
