"""Render throughput, measured side by side in one run on the same frames.

Prints: the build pipeline's frames/s (RGB passes with noise matching, ground-truth passes,
amodal masks, measures, questions, PNG encoding, cache and manifest) on robot-lab scenes as heavy
as the benchmark's, raw Mitsuba frames/s on the *same frames with the same number of passes*
(scene load + mi.render only: the work a frame needs, without the pipeline around it), their
ratio (goal >= 0.8), raw Mitsuba at the base 2 passes for context, and the chosen variant's
speed over scalar_rgb (goal >= 2.5x). Run at --size 256 and --size 512.
``--families`` adds the build pipeline on real-asset robot-lab scenes vs procedural scenes,
each in its own process so that its peak memory is its own (goal: assets >= 0.5x procedural).

    python bench/render.py [--size 256] [--spp 12] [--scenes 1] [--subtypes 6] [--families]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np


def frames(n_scenes: int, n_sub: int) -> list:  # type: ignore[type-arg]
    from robostress.scene.sample import sample_scene
    from robostress.stress.base import all_stresses, apply_stress

    out = []
    subs = [s.subtype for s in all_stresses()][:: max(1, 16 // n_sub)][:n_sub]
    for i in range(n_scenes):
        clean = sample_scene("tabletop", 0, i)
        out.append(clean)
        for s in subs:
            for sev in (1, 3, 5):
                p, rec = apply_stress(clean, s, sev)
                if not rec.skipped:
                    out.append(p)
    return out, subs  # type: ignore[return-value]


def raw_fps(plans: list, variant: str, size: int, spp: int, reps: int = 2) -> float:  # type: ignore[type-arg]
    from robostress.render.renderer import Renderer, RenderSettings

    r = Renderer(RenderSettings(width=size, height=size, spp=spp, variant=variant))
    for p in plans[:3]:  # warm the JIT kernel cache
        r.render_rgb(p, 0)
    best = 0.0
    for _ in range(reps):
        t = time.perf_counter()
        for p in plans:
            r.render_rgb(p, 0)
        best = max(best, len(plans) / (time.perf_counter() - t))
    return best


def pipeline_fps(n_scenes: int, subs: list[str], size: int, spp: int, reps: int = 2,
                 family: str = "tabletop", keep: Path | None = None) -> tuple[float, int]:
    from robostress.benchmark.build import BuildConfig, Builder
    from robostress.render.renderer import RenderSettings

    cfg = BuildConfig(name="bench", num_scenes=n_scenes, subtypes=subs, severities=[1, 3, 5], questions=True,
                      family=family, render=RenderSettings(width=size, height=size, spp=spp))
    best, n = 0.0, 0
    for rep in range(reps):
        tmp = Path(tempfile.mkdtemp())
        try:
            t = time.perf_counter()
            m = Builder(cfg, tmp / "out", tmp / "cache").build(progress=False)
            n = m["counts"]["frames"]
            best = max(best, n / (time.perf_counter() - t))
            if keep is not None and rep == reps - 1:
                shutil.copytree(tmp / "out", keep, dirs_exist_ok=True)
        finally:
            shutil.rmtree(tmp)
    return best, n


def raw_same_passes(bench_dir: Path, size: int, spp: int, reps: int = 2) -> float:
    """Raw Mitsuba frames/s on a built benchmark's frames, each rendered (scene load + mi.render)
    with the seed and the number of passes its build used, nothing else."""
    import json

    from robostress.render.renderer import Renderer, RenderSettings
    from robostress.scene.plan import ScenePlan
    from robostress.stress.base import apply_stress

    scenes = {json.loads(x)["scene_id"]: ScenePlan.model_validate_json(x)
              for x in (bench_dir / "scenes.jsonl").read_text().splitlines()}
    jobs = []
    for line in (bench_dir / "frames.jsonl").read_text().splitlines():
        f = json.loads(line)
        st = f["stress"]
        clean = scenes[f["scene_id"]]
        plan = clean if st["severity"] == 0 else apply_stress(clean, st["subtype"], st["severity"])[0]
        jobs.append((plan, int(f["render"]["seed"]), int(f["render"]["noise"]["passes"])))
    renderers: dict[int, Renderer] = {}
    for _, _, k in jobs:
        renderers.setdefault(k, Renderer(RenderSettings(width=size, height=size, spp=spp, passes=k)))
    for plan, seed, k in jobs[:2]:  # warm the JIT kernel cache
        renderers[k].render_rgb(plan, seed)
    best = 0.0
    for _ in range(reps):
        t = time.perf_counter()
        for plan, seed, k in jobs:
            renderers[k].render_rgb(plan, seed)
        best = max(best, len(jobs) / (time.perf_counter() - t))
    return best


def _family_run(args: tuple[str, int, list[str], int, int]) -> tuple[float, int, float]:
    import resource

    family, n_scenes, subs, size, spp = args
    fps, n = pipeline_fps(n_scenes, subs, size, spp, reps=1, family=family)
    return fps, n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def families(n_scenes: int, subs: list[str], size: int, spp: int) -> None:
    """Build pipeline frames/s and peak RSS, procedural vs real-asset scenes, interleaved twice."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    res: dict[str, list[tuple[float, int, float]]] = {"tabletop": [], "lab_tabletop": []}
    for _ in range(2):  # interleaved so that machine noise hits both alike
        for fam in res:
            with ctx.Pool(1) as pool:
                res[fam].append(pool.map(_family_run, [(fam, n_scenes, subs, size, spp)])[0])
    for fam, runs in res.items():
        fps = max(r[0] for r in runs)
        print(f"{'build ' + fam:32s} {fps:7.2f} frames/s  ({runs[0][1]} frames, peak RSS {max(r[2] for r in runs):.0f} MB)")
    ratio = max(r[0] for r in res["lab_tabletop"]) / max(r[0] for r in res["tabletop"])
    print(f"assets / procedural = {ratio:.2f}   (goal >= 0.5)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--spp", type=int, default=12)  # per pass (RenderSettings default)
    ap.add_argument("--scenes", type=int, default=1)
    ap.add_argument("--subtypes", type=int, default=6)
    ap.add_argument("--family", default="lab_tabletop", help="scene family of the pipeline-vs-raw comparison")
    ap.add_argument("--families", action="store_true", help="also compare real-asset and procedural scenes")
    a = ap.parse_args()
    from robostress.render.variant import choose_variant

    plans, subs = frames(a.scenes, a.subtypes)
    chosen = choose_variant("auto")
    keep = Path(tempfile.mkdtemp()) / "bench"
    pipe = same = 0.0
    try:
        for _ in range(2):  # interleaved, best of each: machine noise hits both alike
            p, n = pipeline_fps(a.scenes, subs, a.size, a.spp, reps=1, family=a.family, keep=keep)  # sets the variant
            pipe, same = max(pipe, p), max(same, raw_same_passes(keep, a.size, a.spp, reps=1))
    finally:
        shutil.rmtree(keep.parent)
    raw = raw_fps(plans, chosen, a.size, a.spp)
    scalar = raw_fps(plans[: max(4, len(plans) // 3)], "scalar_rgb", a.size, a.spp, reps=1)
    print(f"{a.family}: {n} frames ({a.size}x{a.size}, passes of {a.spp} spp, multijitter; stressed frames may "
          f"add passes to match their clean twin's noise), variant: {chosen}")
    print(f"{'build pipeline (all of it)':36s} {pipe:7.2f} frames/s")
    print(f"{'raw Mitsuba, same frames and passes':36s} {same:7.2f} frames/s")
    print(f"pipeline / raw = {pipe / same:.2f}   (goal >= 0.8)")
    print(f"tabletop, {len(plans)} frames: raw Mitsuba at the base 2 passes {raw:7.2f} frames/s, scalar_rgb {scalar:7.2f}")
    print(f"{chosen} / scalar_rgb = {raw / scalar:.2f}x   (goal >= 2.5x)")
    if a.families:
        families(a.scenes, subs, a.size, a.spp)
    _ = np  # numpy imported for users extending the bench


if __name__ == "__main__":
    main()
