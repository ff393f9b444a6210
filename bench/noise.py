"""Render noise, measured against high-spp references on real benchmark frames.

    python bench/noise.py samplers [--size 128] [--scenes 3] [--ref-spp 1024]
    python bench/noise.py ratios   [--size 128] [--scenes 3] [--ref-spp 576]
    python bench/noise.py cost     [--size 256] [--scenes 1] [--family lab_tabletop]
    python bench/noise.py pipelines [--size 256] [--scenes 1] [--ref-spp 1024] [--family lab_tabletop] [--only 0,2]

``samplers``: sampler x spp (x passes) -> mean abs error in 8-bit levels against a reference
rendered with another seed, and seconds per frame (scene load + RGB passes, warm JIT), on
clean, glass, metal and hot-spot frames: the data the default sampler/spp was chosen from.

``ratios``: per sub-type x severity, the stressed frame's error on *unchanged* pixels divided by
its clean twin's, mean over scenes. Unchanged pixels: same first-hit entity and depth in both
twins, and reference colours within 1 level (eroded by one pixel). "before" renders like the
old default (orthogonal, 25 spp, one pass); "after" with the current RenderSettings (passes,
adaptive spp ladder). Errors are taken on unrounded sRGB levels (stricter than 8-bit PNGs,
whose rounding adds the same ~0.25-level floor to both twins).

``pipelines``: today's (renderer r8: raw passes, 2 x 12 spp, the ladder on unchanged pixels; and
the same raw passes held to r9's bound on all, target and unchanged pixels) against
the denoised candidates (2 passes of 2 or 4 spp, each denoised by Open Image Denoise fast or
high), side by side in one run on the same frames: the clean twin and two sub-types of each
dimension at severity 3 per scene. Per frame: CPU seconds (process time, all threads) and wall
seconds of ``render_twin`` (ground truth, passes, denoising, noise matching; the second of two
rounds, so compiled kernels are warm), and mean abs error of the 8-bit frame in levels against a
reference rendered with ``--ref-spp`` raw samples and another seed; "worst ratio": the largest
stressed / clean 8-bit noise on the whole frame or the target after matching (r9's bound: 1.15).

``cost``: the whole build pipeline (ground truth, passes, noise matching, measures, questions,
PNGs, cache) on ``--scenes`` fresh scenes of ``--family`` at ``--size``, renderer r8's pipeline
against r9's default, one after the other in one run (each after a warm-up build of another
scene): CPU and wall seconds per frame.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Run from a checkout without installing; ROBOSTRESS_SRC=<other checkout> times another tree (cost).
sys.path.insert(0, os.environ.get("ROBOSTRESS_SRC", str(Path(__file__).resolve().parents[1])))

import argparse
import shutil
import tempfile
import time
from typing import Any

import numpy as np

OLD = {"sampler": "orthogonal", "spp": 25}  # the default before this benchmark (one pass)
GRID = [("orthogonal", 25, 1), ("orthogonal", 9, 2), ("orthogonal", 25, 2),
        ("multijitter", 16, 1), ("multijitter", 8, 2), ("multijitter", 12, 2), ("multijitter", 16, 2),
        ("multijitter", 36, 1), ("ldsampler", 16, 1), ("ldsampler", 16, 2), ("ldsampler", 64, 1),
        ("independent", 16, 1), ("independent", 8, 2), ("independent", 64, 1)]


def _renderer(size: int, **kw: Any) -> Any:
    from robostress.render.renderer import Renderer, RenderSettings

    return Renderer(RenderSettings(width=size, height=size, **kw))


def _linear(r: Any, plan: Any, seed: int, passes: int = 1) -> np.ndarray:
    """Mean of ``passes`` renders at the renderer's spp (passes=1: one plain mi.render)."""
    scene = r.load(plan)
    return np.mean([np.array(r._mi.render(scene, seed=seed + 7919 * i, spp=r.settings.spp))[..., :3]
                    for i in range(passes)], axis=0)


def _levels(linear: np.ndarray) -> np.ndarray:
    from robostress.render.noise import srgb_levels

    return srgb_levels(linear)


def samplers(a: argparse.Namespace) -> None:
    from robostress.core.colour import linear_to_srgb8
    from robostress.scene.sample import sample_scene
    from robostress.stress.base import apply_stress

    plans = []
    for i in range(a.scenes):
        clean = sample_scene("tabletop", 0, i)
        plans.append(clean)
        for sub in ("transparent", "specular_confusion", "local_overexposure"):
            p, rec = apply_stress(clean, sub, 3)
            if rec.skipped is None:
                plans.append(p)
    ref_r = _renderer(a.size, sampler="multijitter", spp=a.ref_spp)
    refs = [_levels(_linear(ref_r, p, 999_983)) for p in plans]
    print(f"{len(plans)} frames at {a.size}px, reference: multijitter {a.ref_spp} spp, other seed; "
          f"time: warm JIT, best of 2")
    print(f"{'sampler':12s} {'spp':>9s} {'err (levels)':>13s} {'p99 err':>8s} {'s/frame':>8s}")
    for sampler, spp, passes in GRID:
        r = _renderer(a.size, sampler=sampler, spp=spp)
        dt = np.inf
        for _ in range(2):  # the first round compiles each frame's kernels
            t0 = time.perf_counter()
            imgs = [linear_to_srgb8(_linear(r, p, 1, passes)) for p in plans]
            dt = min(dt, (time.perf_counter() - t0) / len(plans))
        errs, p99 = [], []
        for img, ref in zip(imgs, refs, strict=True):
            e = np.abs(img.astype(np.float64) - ref)
            errs.append(e.mean())
            p99.append(np.percentile(e, 99))
        label = f"{spp}" if passes == 1 else f"{passes}x{spp}"
        print(f"{sampler:12s} {label:>9s} {np.mean(errs):13.3f} {np.mean(p99):8.2f} {dt:8.3f}")


def _unchanged(ref_c: np.ndarray, ref_s: np.ndarray, gt_c: Any, gt_s: Any) -> np.ndarray:
    from robostress.render.noise import erode, surface_codes

    names: dict[str, int] = {}
    same = surface_codes(gt_c.ids, gt_c.id_map, names) == surface_codes(gt_s.ids, gt_s.id_map, names)
    same &= np.abs(gt_c.depth - gt_s.depth) <= 1e-3 * np.maximum(gt_c.depth, 1e-3)
    same &= (np.abs(ref_c - ref_s) <= 1.0).all(axis=-1)
    return erode(same)


def ratios(a: argparse.Namespace) -> None:
    from robostress.scene.sample import sample_scene
    from robostress.seeding import derive_seed
    from robostress.stress.base import all_stresses, apply_stress

    ref_r = _renderer(a.size, sampler="multijitter", spp=a.ref_spp)
    old = _renderer(a.size, **OLD)
    new = _renderer(a.size)
    print(f"new settings: {new.settings}")
    subs = [s.subtype for s in all_stresses()]
    cells: dict[tuple[str, int], dict[str, list[float]]] = {}
    spp_used: dict[tuple[str, int], list[int]] = {}
    t_old = t_new = 0.0
    n_frames = 0
    for i in range(a.scenes):
        clean = sample_scene("tabletop", 0, i)
        seed = derive_seed(0, clean.scene_id, "render") & 0x7FFFFFFF
        ref_c = _levels(_linear(ref_r, clean, 999_983))
        gt_c = new._ground_truth(clean, new.load(clean))
        before_c = _levels(_linear(old, clean, seed))
        tw = new.render_twin(clean, seed)
        after_c = _levels(tw.linear)
        for sub in subs:
            for sev in range(1, 6):
                plan, rec = apply_stress(clean, sub, sev)
                if rec.skipped is not None:
                    continue
                ref_s = _levels(_linear(ref_r, plan, 999_983))
                t = time.perf_counter()
                before_s = _levels(_linear(old, plan, seed))
                t_old += time.perf_counter() - t
                t = time.perf_counter()
                out = new.render_twin(plan, seed, tw.ref)
                t_new += time.perf_counter() - t
                n_frames += 1
                m = _unchanged(ref_c, ref_s, gt_c, out.arrays)
                c = cells.setdefault((sub, sev), {"before": [], "after": [], "px": []})
                spp_used.setdefault((sub, sev), []).append(out.noise["spp"])
                if m.sum() < 64:
                    c["px"].append(float(m.sum()))
                    continue
                for key, cc, ss in (("before", before_c, before_s), ("after", after_c, _levels(out.linear))):
                    ec = np.abs(cc - ref_c)[m].mean()
                    es = np.abs(ss - ref_s)[m].mean()
                    c[key].append(es / ec)
                c["px"].append(float(m.sum()))
        print(f"scene {i} done", flush=True)
    _print_ratios(cells, spp_used, subs)
    print(f"stressed-frame RGB time (incl. GT pass for 'after'): before {t_old / n_frames:.3f} s/frame, "
          f"after {t_new / n_frames:.3f} s/frame over {n_frames} frames")


def _print_ratios(cells: dict[tuple[str, int], dict[str, list[float]]],
                  spp_used: dict[tuple[str, int], list[int]], subs: list[str]) -> None:
    def fmt(v: list[float]) -> str:
        return f"{np.mean(v):4.2f}" if v else " n/a"

    print("\nnoise ratio stressed/clean on unchanged pixels (mean abs error vs reference), "
          "before -> after [mean spp after]")
    print(f"{'sub-type':24s}" + "".join(f"{'s' + str(s):>22s}" for s in range(1, 6)))
    worst = {"before": 0.0, "after": 0.0}
    for sub in subs:
        row = f"{sub:24s}"
        for sev in range(1, 6):
            c = cells.get((sub, sev))
            if c is None:
                row += f"{'skipped':>22s}"
                continue
            for k in worst:
                if c[k]:
                    worst[k] = max(worst[k], float(np.mean(c[k])))
            spp = np.mean(spp_used[(sub, sev)])
            row += f"{fmt(c['before']) + ' -> ' + fmt(c['after']) + f' [{spp:3.0f}]':>22s}"
        print(row)
    print(f"worst cell: before {worst['before']:.2f}, after {worst['after']:.2f}  (goal <= 1.15)")


def cost(a: argparse.Namespace) -> None:
    from robostress.benchmark.build import BuildConfig, Builder
    from robostress.render.renderer import RENDERER_VERSION, RenderSettings

    configs = [("r8: raw 2x12, unchanged pixels", dict(PIPELINES[0][1])),
               (f"{RENDERER_VERSION}: the default", {})]
    rows = []
    for label, kw in configs:
        settings = RenderSettings(width=a.size, height=a.size, **kw)
        cfg = BuildConfig(name="bench", family=a.family, num_scenes=a.scenes, render=settings, questions=True)
        tmp = Path(tempfile.mkdtemp())
        try:
            Builder(BuildConfig(name="warm", family=a.family, num_scenes=1, seed=99, subtypes=["occlusion"],
                                severities=[1], render=settings, questions=False), tmp / "w", tmp / "wc").build(
                progress=False)
            c, t = time.process_time(), time.perf_counter()
            m = Builder(cfg, tmp / "out", tmp / "cache").build(progress=False)
            cpu, dt = time.process_time() - c, time.perf_counter() - t
            n = m["counts"]["frames"]
            rows.append((label, cpu / n, dt / n))
            print(f"{label:32s} {cpu / n:6.2f} CPU s/frame  {dt / n:6.2f} wall s/frame  ({n} frames, {dt:.0f} s)",
                  flush=True)
        finally:
            shutil.rmtree(tmp)
    print(f"{RENDERER_VERSION} / r8 frames per CPU second: {rows[0][1] / rows[1][1]:.2f}x; per wall second: "
          f"{rows[0][2] / rows[1][2]:.2f}x")


REF_CACHE = Path(os.environ.get("ROBOSTRESS_CACHE", Path.home() / ".cache" / "robostress")) / "bench-ref"


def _reference(r: Any, plan: Any, ref_spp: int) -> np.ndarray:
    """The unrounded sRGB levels of ``plan`` at ``ref_spp`` raw samples (64 a pass, another seed),
    cached by plan, size, sample count, renderer version and Mitsuba version: the 1024-spp
    references of one lab scene's 9 frames take about 25 CPU-minutes."""
    import hashlib

    from robostress.render.renderer import RENDERER_VERSION

    key = hashlib.sha256("|".join([plan.to_json(), str(r.settings.width), str(r.settings.height), str(ref_spp),
                                   RENDERER_VERSION, r._mi.__version__, r.variant]).encode()).hexdigest()[:24]
    f = REF_CACHE / f"{key}.npy"
    if f.exists():
        return np.load(f, allow_pickle=False)
    out = _levels(_linear(r, plan, 999_983, ref_spp // 64))
    REF_CACHE.mkdir(parents=True, exist_ok=True)
    tmp = f.with_suffix(".tmp.npy")
    np.save(tmp, out, allow_pickle=False)
    tmp.replace(f)
    return out


PIPELINES = [  # label, RenderSettings overrides (r8: the pipeline of renderer r8, today's before r9)
    ("r8: raw 2x12, unchanged", {"denoise": None, "spp": 12, "match": ("unchanged",)}),
    ("raw 2x12, all sets", {"denoise": None, "spp": 12}),  # r8's passes held to r9's noise bound
    ("r9: oidn fast 2x2, x2", {"denoise": "oidn", "spp": 2, "spp_ladder": (1, 2, 4, 8)}),  # r9's default
    ("r10: oidn fast 2x2, +1", {"denoise": "oidn", "spp": 2}),  # the default: passes added one at a time
    ("oidn fast 2x1, +1", {"denoise": "oidn", "spp": 1}),
    ("oidn fast 2x4", {"denoise": "oidn", "spp": 4, "denoise_quality": "fast"}),
    ("oidn high 2x2", {"denoise": "oidn", "spp": 2, "denoise_quality": "high"}),
    ("oidn high 2x4", {"denoise": "oidn", "spp": 4, "denoise_quality": "high"}),
    ("oidn fast 2x2 +1, depth 6", {"denoise": "oidn", "spp": 2, "max_depth": 6}),  # biased: fewer bounces
]
PIPELINE_SUBTYPES = ("complex_texture", "transparent", "local_underexposure", "global_overexposure",
                     "extreme_viewpoint", "small_scale", "occlusion", "nonrigid_deformation")


def pipelines(a: argparse.Namespace) -> None:
    from robostress.scene.sample import sample_scene
    from robostress.seeding import derive_seed
    from robostress.stress.base import apply_stress, get_stress

    frames = []  # (label, plan, clean plan or None, seed)
    for i in range(a.scenes):
        clean = sample_scene(a.family, 0, i)
        seed = derive_seed(0, clean.scene_id, "render") & 0x7FFFFFFF
        frames.append((f"{i}/clean", clean, None, seed))
        for sub in PIPELINE_SUBTYPES:
            plan, rec = apply_stress(clean, sub, 3)
            if rec.skipped is None:
                frames.append((f"{i}/{sub}", plan, clean, seed))
    ref_r = _renderer(a.size, sampler="multijitter", spp=64, denoise=None)
    t0 = time.perf_counter()
    refs = [_reference(ref_r, p, a.ref_spp) for _, p, _, _ in frames]
    print(f"{len(frames)} {a.family} frames at {a.size}px over {a.scenes} scene(s); reference {a.ref_spp} spp raw, "
          f"other seed ({time.perf_counter() - t0:.0f} s; cached in {REF_CACHE})", flush=True)
    rows: dict[str, dict[str, list[float]]] = {}
    chosen = [PIPELINES[int(k)] for k in a.only.split(",")] if a.only else PIPELINES
    for label, kw in chosen:
        r = _renderer(a.size, **kw)
        for _rnd in range(2):  # round 0 compiles the kernels; round 1 is timed
            cref: dict[str, Any] = {}
            cpu, wall, err, spp, worst = [], [], [], [], []
            for (name, plan, clean, seed), ref in zip(frames, refs, strict=True):
                c0, w0 = time.process_time(), time.perf_counter()
                if clean is None:
                    out = r.render_twin(plan, seed)
                    cref[name.split("/")[0]] = out.ref
                else:
                    out = r.render_twin(plan, seed, cref[name.split("/")[0]])
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - w0)
                err.append(float(np.abs(out.arrays.rgb.astype(np.float64) - ref).mean()))
                spp.append(out.noise["spp"])
                worst.append(max((out.noise[k] or 0.0) for k in ("whole_ratio", "target_ratio")))
        rows[label] = {"cpu": cpu, "wall": wall, "err": err, "spp": spp, "worst": worst}
        print(f"  {label}: done", flush=True)
    base = rows[chosen[0][0]]
    print(f"\n{'pipeline':26s} {'CPU s/frame':>11s} {'wall s/frame':>12s} {'speed-up (CPU)':>14s} "
          f"{'err (levels)':>12s} {'worst frame err':>15s} {'mean spp':>8s} {'worst ratio':>11s}")
    for label, r in rows.items():
        print(f"{label:26s} {np.mean(r['cpu']):11.3f} {np.mean(r['wall']):12.3f} "
              f"{np.sum(base['cpu']) / np.sum(r['cpu']):13.2f}x {np.mean(r['err']):12.3f} "
              f"{max(r['err']):15.3f} {np.mean(r['spp']):8.1f} {max(r['worst']):11.2f}")
    print("\nerror per frame (levels):")
    print(f"{'frame':28s}" + "".join(f"{lbl[:14]:>15s}" for lbl in rows))
    for k, (name, *_rest) in enumerate(frames):
        dim = "clean" if "clean" in name else get_stress(name.split("/")[1]).dimension
        print(f"{name + ' (' + dim + ')':28s}" + "".join(f"{r['err'][k]:15.3f}" for r in rows.values()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["samplers", "ratios", "cost", "pipelines"])
    ap.add_argument("--size", type=int, default=None)
    ap.add_argument("--scenes", type=int, default=None)
    ap.add_argument("--ref-spp", type=int, default=None)
    ap.add_argument("--only", default="", help="pipelines: comma-separated indices into PIPELINES "
                    "(the first is the baseline of the speed-up column), e.g. 0,2")
    ap.add_argument("--family", default="lab_tabletop", help="scene family of the pipelines frames "
                    "(lab_tabletop: the robot lab of mini and lab100; tabletop: the box scenes)")
    a = ap.parse_args()
    a.size = a.size or (256 if a.what in ("cost", "pipelines") else 128)
    a.scenes = a.scenes or (1 if a.what in ("cost", "pipelines") else 3)
    a.ref_spp = a.ref_spp or (1024 if a.what in ("samplers", "pipelines") else 576)
    {"samplers": samplers, "ratios": ratios, "cost": cost, "pipelines": pipelines}[a.what](a)


if __name__ == "__main__":
    main()
