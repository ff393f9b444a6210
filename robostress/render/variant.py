"""Mitsuba variant selection: cuda_ad_rgb > llvm_ad_rgb (LLVM >= 19 only) > scalar_rgb.

LLVM 14 is refused by drjit and LLVM 15/16 load but abort the process on the first
path-traced render, so the LLVM variant is chosen only after checking the library version.
"""

from __future__ import annotations

import logging
from typing import Any

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


def available(variant: str) -> tuple[bool, str]:
    """Whether ``variant`` can run here, and if not, why."""
    mi = _mitsuba()
    if variant not in mi.variants():
        return False, f"this Mitsuba build has no {variant}"
    if variant.startswith("cuda"):
        return (True, "") if cuda_available() else (False, "no CUDA device")
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

    An explicitly requested variant that cannot run falls back to scalar_rgb with one
    warning line; an unknown name is a ConfigError.
    """
    if requested != "auto" and requested not in VARIANTS:
        raise ConfigError(f"unknown Mitsuba variant {requested!r}; choose auto or one of {VARIANTS}")
    if requested == "auto":
        for v in VARIANTS:
            ok, _ = available(v)
            if ok:
                return v
        return "scalar_rgb"
    ok, why = available(requested)
    if ok:
        return requested
    log.warning("renderer: %s unavailable (%s); falling back to scalar_rgb", requested, why)
    return "scalar_rgb"


def set_variant(requested: str = "auto") -> str:
    """Choose and activate a variant; returns its name."""
    mi = _mitsuba()
    v = choose_variant(requested)
    if mi.variant() != v:
        mi.set_variant(v)
    return v
