"""Audit a built benchmark: does it measure what it claims to?

Reports, from the files alone: object categories and robot visibility over the clean frames,
frames that show the void (a pixel whose ray hits nothing, from the exact depth pass) and frames
with more than 1 % pure-black pixels (with their stresses: deep shadow is physics, not void), the realised severity per sub-type (s1 and s5 means, and
whether it moves the declared way in every scene), render noise of stressed frames relative to
their clean twins (the 8-bit frame's noise on all pixels clipped in neither twin, on the targets'
pixels, and on the pixels the stress leaves unchanged), and items per (sub-type, severity,
ability) cell. A multi-environment build (issue 24) adds the realised-severity and noise checks per
environment: in how many of its scenes each sub-type moves the declared way, and its frames over
the noise bound.

    robostress audit benchmark_dir=benchmarks/mini
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from robostress.benchmark.load import Benchmark
from robostress.stress.base import get_stress

BLACK_LEVEL = 2  # 8-bit value at or below which a pixel counts as pure black
MAX_BLACK_SHARE = 0.01
NOISE_LIMIT = 1.15  # stressed / clean noise allowed when the manifest names no bound (RenderSettings.noise_ratio)
NOISE_SETS = (("whole", "whole_ratio"), ("target", "target_ratio"), ("unchanged", "ratio"))


def audit(root: Path | str) -> dict[str, Any]:
    """All audit tables of the benchmark at ``root`` as plain data."""
    b = Benchmark(root)
    frames = list(b.frames.values())
    clean = [f for f in frames if f.stress.severity == 0]
    cats = sorted({o.category for p in b.scenes.values() for o in p.objects})
    robot_seen = sum(_entity_px(b, f, "robot") > 0 and _entity_px(b, f, "gripper") > 0 for f in clean)
    black = [f.frame_id for f in frames if (b.image(f.image).max(-1) <= BLACK_LEVEL).mean() > MAX_BLACK_SHARE]
    void = [f.frame_id for f in frames if (_depth(b, f) == 0).any()]  # a ray that hit nothing at all
    realised: dict[str, dict[int, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    noise: dict[str, dict[str, dict[int, list[float]]]] = {k: defaultdict(lambda: defaultdict(list))
                                                            for k, _ in NOISE_SETS}
    envs = b.environments
    env_noise: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))  # env -> set -> ratios
    clean_noise: dict[str, list[float]] = defaultdict(list)
    for f in frames:
        s = f.stress
        if s.severity and s.realised is not None:
            realised[s.subtype][s.severity][f.scene_id] = float(s.realised)
        rec = (f.render.get("noise") or {}) if isinstance(f.render, dict) else {}
        if not s.severity:
            for key in ("noise8", "target_noise8"):
                if rec.get(key) is not None:
                    clean_noise[key].append(float(rec[key]))
            continue
        for name, key in NOISE_SETS:
            if rec.get(key) is not None:
                noise[name][s.subtype][s.severity].append(float(rec[key]))
                if f.scene_id in envs:
                    env_noise[envs[f.scene_id]][name].append(float(rec[key]))
    limit = float((b.manifest.get("renderer") or {}).get("noise_ratio") or NOISE_LIMIT)  # the build's own bound
    rows = []
    monotonic: dict[str, dict[str, bool]] = {}  # sub-type -> scene -> moves the declared way
    for sub, by_sev in realised.items():
        d = get_stress(sub).direction
        scenes = sorted(set.intersection(*(set(v) for v in by_sev.values()))) if len(by_sev) == 5 else []
        monotonic[sub] = {sc: all(d * (by_sev[k + 1][sc] - by_sev[k][sc]) >= -0.02 * abs(by_sev[5][sc] or 1)
                                  for k in range(1, 5)) and d * (by_sev[5][sc] - by_sev[1][sc]) > 0 for sc in scenes}
        mono = list(monotonic[sub].values())
        rows.append({"subtype": sub, "s1": float(np.mean(list(by_sev[1].values()))) if 1 in by_sev else None,
                     "s5": float(np.mean(list(by_sev[5].values()))) if 5 in by_sev else None,
                     "monotonic_scenes": f"{sum(mono)}/{len(mono)}"})
    per_env = {env: {"scenes": sum(e == env for e in envs.values()),
                     "monotonic": {sub: f"{sum(v for sc, v in m.items() if envs.get(sc) == env)}/"
                                        f"{sum(envs.get(sc) == env for sc in m)}" for sub, m in monotonic.items()},
                     "noise_over": {name: f"{sum(v > limit for v in env_noise[env][name])}/{len(env_noise[env][name])}"
                                    for name, _ in NOISE_SETS}}
               for env in sorted(set(envs.values()))}
    cells: dict[tuple[str, int, str], set[str]] = defaultdict(set)
    counts: dict[tuple[str, int, str], int] = defaultdict(int)
    fmap = b.frames
    for it in b.items:
        f = fmap[it.frame_id]
        if f.stress.severity:
            key = (f.stress.subtype, f.stress.severity, it.ability)
            counts[key] += 1
            cells[key].add(f.scene_id)
    n = np.array(list(counts.values()) or [0])
    return {
        "scenes": len(b.scenes), "frames": len(frames), "items": len(b.items), "categories": cats,
        "robot_visible_clean": f"{robot_seen}/{len(clean)}", "black_frames": black, "void_frames": void,
        "realised": sorted(rows, key=lambda r: list(realised).index(r["subtype"])),
        "noise_ratio": {name: {sub: {sev: float(np.max(v)) for sev, v in sorted(by.items())}
                               for sub, by in noise[name].items()} for name, _ in NOISE_SETS},
        "noise_limit": limit,
        "noise_over": {name: sum(v > limit for by in noise[name].values() for vs in by.values() for v in vs)
                       for name, _ in NOISE_SETS},
        "noise_measured": {name: sum(len(vs) for by in noise[name].values() for vs in by.values())
                           for name, _ in NOISE_SETS},
        "clean_noise8": {k: float(np.mean(v)) for k, v in clean_noise.items()},
        "environments": per_env,
        "cells": {"count": len(counts), "items_min": int(n.min()), "items_median": float(np.median(n)),
                  "scenes_min": min((len(v) for v in cells.values()), default=0)},
    }


NOISE_TITLES = {"whole": "all pixels clipped in neither twin (8-bit)",
                "target": "the targets' pixels in both twins (8-bit)",
                "unchanged": "pixels the stress leaves unchanged"}


def _depth(b: Benchmark, f: Any) -> np.ndarray:
    return cv2.imread(str(b.path(f.depth)), cv2.IMREAD_UNCHANGED)


def _entity_px(b: Benchmark, f: Any, entity: str) -> int:
    number = next((int(k) for k, v in f.id_map.items() if v == entity), None)
    return 0 if number is None else int((b.mask(f.mask) == number).sum())


def format_audit(a: dict[str, Any]) -> str:
    """The audit tables of ``audit()`` as text."""
    lines = [f"{a['scenes']} scenes, {a['frames']} frames, {a['items']} items",
             f"categories ({len(a['categories'])}): {', '.join(a['categories'])}",
             f"robot arm and gripper visible in clean frames: {a['robot_visible_clean']}",
             f"frames where a pixel sees the void (no surface hit): {len(a['void_frames'])}",
             f"frames with > {MAX_BLACK_SHARE:.0%} pure-black pixels: {len(a['black_frames'])} "
             f"({', '.join(sorted({'/'.join(x.split('/')[1:]) for x in a['black_frames']})) or 'none'})",
             "\nrealised severity (mean over scenes)         s1          s5   monotonic in scenes"]
    for r in a["realised"]:
        s1, s5 = (f"{r[k]:.4g}" if r[k] is not None else "-" for k in ("s1", "s5"))  # a build without s1 or s5
        lines.append(f"  {r['subtype']:24s} {s1:>14s} {s5:>11s}   {r['monotonic_scenes']}")
    cn = a.get("clean_noise8") or {}
    if cn:
        lines.append(f"\nrender noise of the clean frames, 8-bit levels RMS (render noise and rounding): "
                     f"non-clipped pixels {cn.get('noise8', float('nan')):.2f}, "
                     f"target pixels {cn.get('target_noise8', float('nan')):.2f}")
    for name, _ in NOISE_SETS:
        table = a["noise_ratio"].get(name) or {}
        over, n = a["noise_over"][name], a["noise_measured"][name]
        lines.append(f"\nnoise on {NOISE_TITLES[name]}, stressed / clean, max over scenes "
                     f"({n} frames measured, {over} over {a['noise_limit']}; a missing severity: too few pixels)")
        for sub, by in table.items():
            lines.append(f"  {sub:24s} " + "  ".join(f"s{k} {v:.2f}" for k, v in by.items()))
    for env, e in (a.get("environments") or {}).items():
        bad = [f"{sub} {m}" for sub, m in e["monotonic"].items() if m.split("/")[0] != m.split("/")[1]]
        ok = sum(m.split("/")[0] == m.split("/")[1] for m in e["monotonic"].values())
        if env == next(iter(a["environments"])):
            lines.append(f"\nper environment: sub-types monotonic in every scene of it; frames over {a['noise_limit']} "
                         f"(all pixels / targets / unchanged pixels)")
        lines.append(f"  {env:14s} {e['scenes']:2d} scenes  monotonic {ok}/{len(e['monotonic'])}"
                     + (f" (not: {', '.join(bad)})" if bad else "")
                     + "  noise over: " + " / ".join(e["noise_over"][name] for name, _ in NOISE_SETS))
    c = a["cells"]
    lines.append(f"\n(sub-type, severity, ability) cells: {c['count']}; items per cell min {c['items_min']}, "
                 f"median {c['items_median']:.0f}; scenes per cell min {c['scenes_min']}")
    return "\n".join(lines)
