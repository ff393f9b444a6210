"""Mitsuba variant selection: cuda_ad_rgb > llvm_ad_rgb (LLVM >= 19 only) > scalar_rgb.

LLVM 14 is refused by drjit and LLVM 15/16 load but abort the process on the first
path-traced render, so the LLVM variant is chosen only after checking the library version.
A CUDA device is not enough for cuda_ad_rgb: Mitsuba traces rays with OptiX
(``libnvoptix.so.1``), which containers started without the driver's graphics capability
lack, and then the first scene load fails. So cuda_ad_rgb is chosen only after it has loaded
and rendered a tiny scene here (once per process). A variant that cannot run falls back to
the next one that can (cuda -> llvm -> scalar), since a shard rendered with scalar_rgb next to
llvm_ad_rgb shards is refused by merge.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import numpy as np

from robostress.errors import ConfigError

log = logging.getLogger(__name__)

VARIANTS = ("cuda_ad_rgb", "llvm_ad_rgb", "scalar_rgb")
MIN_LLVM = (19,)
_INSTALL_HINT = "pip install mitsuba (and apt-get install -y libllvm19 for the fast CPU variant)"


def _mitsuba() -> Any:
    try:
        import mitsuba as mi
    except ImportError as e:  # pragma: no cover - mitsuba is a core dependency
        raise ConfigError(f"Mitsuba 3 is not installed: {_INSTALL_HINT}") from e
    return mi


def llvm_version() -> tuple[int, ...] | None:
    """Version of the LLVM library drjit found, or None if it has none."""
    try:
        import drjit as dr

        v = dr.detail.llvm_version()
    except Exception:  # drjit raises when no libLLVM can be loaded
        return None
    return tuple(int(x) for x in v) if v else None


def cuda_available() -> bool:
    """Whether drjit can use a CUDA device."""
    try:
        import drjit as dr

        return bool(dr.has_backend(dr.JitBackend.CUDA))
    except Exception:
        return False


_PROBE_SCENE: dict[str, Any] = {
    "type": "scene", "integrator": {"type": "path", "max_depth": 2},
    "sensor": {"type": "perspective", "fov": 45,
               "film": {"type": "hdrfilm", "width": 4, "height": 4, "rfilter": {"type": "box"}}},
    "emitter": {"type": "constant"}, "shape": {"type": "sphere"},
}


@functools.cache
def render_probe(variant: str) -> str | None:
    """Load and render a 4x4 scene with ``variant``; None if that worked, else why not.

    The process's active variant is restored afterwards. Cached: the answer does not change
    within a process.
    """
    mi = _mitsuba()
    before = mi.variant()
    try:
        mi.set_variant(variant)
        img = mi.render(mi.load_dict(_PROBE_SCENE), spp=1)
        ok = bool(np.isfinite(np.asarray(img)).all())
        return None if ok else "the probe render gave non-finite pixels"
    except Exception as e:  # drjit/OptiX raise RuntimeError & co. when the backend cannot run
        msg = " ".join(str(e).split())[:160]
        return f"a probe render failed ({type(e).__name__}: {msg})"
    finally:
        if before is not None and mi.variant() != before:
            mi.set_variant(before)


def available(variant: str) -> tuple[bool, str]:
    """Whether ``variant`` can run here, and if not, why."""
    mi = _mitsuba()
    if variant not in mi.variants():
        return False, f"this Mitsuba build has no {variant}"
    if variant.startswith("cuda"):
        if not cuda_available():
            return False, "no CUDA device"
        why = render_probe(variant)
        return (True, "") if why is None else (False, f"{why}; OptiX (libnvoptix.so.1) may be missing: "
                                                     "run the container with NVIDIA_DRIVER_CAPABILITIES=all")
    if variant.startswith("llvm"):
        v = llvm_version()
        if v is None:
            return False, "no LLVM library found (apt-get install -y libllvm19)"
        if v < MIN_LLVM:
            found = ".".join(map(str, v))
            return False, f"LLVM {found} is too old (>= 19 needed; 15/16 crash on render)"
    return True, ""


def choose_variant(requested: str = "auto") -> str:
    """Resolve ``requested`` ('auto' or a variant name) to a variant that works here.

    An explicitly requested variant that cannot run falls back to the next one in
    ``VARIANTS`` that can (cuda_ad_rgb -> llvm_ad_rgb -> scalar_rgb) with one warning line; an
    unknown name is a ConfigError.
    """
    if requested != "auto" and requested not in VARIANTS:
        raise ConfigError(f"unknown Mitsuba variant {requested!r}; choose auto or one of {VARIANTS}")
    if requested == "auto":
        return next((v for v in VARIANTS if available(v)[0]), "scalar_rgb")
    ok, why = available(requested)
    if ok:
        return requested
    rest = VARIANTS[VARIANTS.index(requested) + 1:]
    fallback = next((v for v in rest if available(v)[0]), "scalar_rgb")
    log.warning("renderer: %s unavailable (%s); falling back to %s", requested, why, fallback)
    return fallback


def set_variant(requested: str = "auto") -> str:
    """Choose and activate a variant; returns its name."""
    mi = _mitsuba()
    v = choose_variant(requested)
    if mi.variant() != v:
        mi.set_variant(v)
    return v
