"""Build a small benchmark as "another machine" would: ``python standin_build.py OUT CACHE
VECTOR_WIDTH VARIANT [SHARDS]``. VECTOR_WIDTH > 0 makes Dr.Jit's LLVM backend generate code for
that many lanes (an AVX-512 machine uses 16, AVX2 8) through drjit-core's ``jit_llvm_set_target``;
numpy's dispatch is changed by the caller's ``NPY_DISABLE_CPU_FEATURES``. SHARDS > 1 builds the
shards last-to-first and merges them (another process order)."""

from __future__ import annotations

import ctypes
import json
import os
import sys
from pathlib import Path


def set_vector_width(width: int) -> None:
    """Dr.Jit LLVM code for ``width`` lanes (the host's CPU and features otherwise unchanged)."""
    import drjit as dr
    import mitsuba as mi

    lib = ctypes.CDLL(os.path.join(os.path.dirname(dr.__file__), "libdrjit-core.so"))
    set_target = lib._Z19jit_llvm_set_targetPKcS0_j  # jit_llvm_set_target(cpu, features, width)
    cpu, feats = lib._Z19jit_llvm_target_cpuv, lib._Z24jit_llvm_target_featuresv
    cpu.restype = feats.restype = ctypes.c_char_p
    set_target.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint32]
    mi.set_variant("llvm_ad_rgb")
    dr.eval(dr.zeros(mi.Float, 4))  # the backend is initialised (and its target known)
    set_target(cpu(), feats(), width)
    got = lib._Z21jit_llvm_vector_widthv
    got.restype = ctypes.c_uint32
    assert got() == width, got()


def main() -> None:
    out, cache, width, variant = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    shards = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    if width:
        set_vector_width(width)
    from robostress.benchmark.build import BuildConfig, Builder
    from robostress.benchmark.merge import merge_shards
    from robostress.render.renderer import RenderSettings

    cfg = dict(name="standin", family="tabletop", num_scenes=2, seed=0,
               subtypes=["low_contrast_blend", "nonrigid_deformation", "occlusion"], severities=[1, 3, 5],
               render=RenderSettings(width=48, height=48, spp=4, variant=variant))
    if shards == 1:
        m = Builder(BuildConfig(**cfg), out, cache).build(progress=False)  # type: ignore[arg-type]
    else:
        for k in reversed(range(shards)):
            Builder(BuildConfig(**cfg, shard=k, num_shards=shards), out.with_name(f"{out.name}.s{k}"),  # type: ignore[arg-type]
                    cache).build(progress=False)
        merge_shards([out.with_name(f"{out.name}.s{k}") for k in range(shards)], out)
        m = json.loads((out / "manifest.json").read_text())
    print(json.dumps({"identity": m["identity"], "content_hash": m["content_hash"]}))


if __name__ == "__main__":
    main()
