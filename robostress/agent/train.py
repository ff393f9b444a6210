"""Train the learned stress detector on robostress's own train split, and evaluate it."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from robostress.agent.detector import LearnedDetector, features
from robostress.benchmark.build import BuildConfig, Builder
from robostress.benchmark.load import Benchmark

CLEAN_WEIGHT = 5  # clean frames are repeated so "none" is as common as a stressed sub-type


def dataset(bench: Benchmark, progress: bool = True) -> tuple[np.ndarray, list[str], list[int], list[str]]:
    """Features, sub-type labels ('none' = clean), severities and dimensions of every frame."""
    x, y, sev, dim = [], [], [], []
    for f in tqdm(sorted(bench.frames.values(), key=lambda f: f.frame_id), desc="features", disable=not progress):
        x.append(features(bench.image(f.image)))
        y.append(f.stress.subtype)
        sev.append(f.stress.severity)
        dim.append(f.stress.dimension)
    return np.array(x), y, sev, dim


def train_detector(cfg: BuildConfig, work_dir: Path, cache_dir: Path, out: Path, progress: bool = True) -> dict[str, Any]:
    """Render the train split, fit the detector (deterministic), save it with its provenance."""
    Builder(cfg, work_dir, cache_dir).build(progress=progress)
    bench = Benchmark(work_dir)
    x, y, _, _ = dataset(bench, progress)
    reps = [CLEAN_WEIGHT if v == "none" else 1 for v in y]
    xr = np.repeat(x, reps, axis=0)
    yr = [v for v, k in zip(y, reps, strict=True) for _ in range(k)]
    det = LearnedDetector.fit(xr, yr, seed=cfg.seed)
    train_acc = float(np.mean([det.classes[int(np.argmax(p))] == t for p, t in
                               zip(((x - det.mean) / det.std) @ det.w + det.b, y, strict=True)]))
    sha = hashlib.sha256(det.w.tobytes() + det.b.tobytes()).hexdigest()[:16]
    meta = {"sha": sha, "train_benchmark": bench.content_hash, "train_frames": len(y), "train_accuracy": train_acc,
            "config": {"family": cfg.family, "num_scenes": cfg.num_scenes, "seed": cfg.seed,
                       "size": cfg.render.width, "spp": cfg.render.spp, "sampler": cfg.render.sampler}}
    det.meta = meta
    det.save(out, meta)
    return meta


def evaluate_detector(bench: Benchmark, det: LearnedDetector, out_dir: Path, progress: bool = True) -> dict[str, Any]:
    """Accuracy (dimension, sub-type, per severity, clean rate) and confusion-matrix figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y, sev, dim = dataset(bench, progress)
    preds = [det.detect_features(v) for v in x]
    by_sev: dict[int, list[tuple[bool, bool]]] = defaultdict(list)
    for p, t, s, d in zip(preds, y, sev, dim, strict=True):
        by_sev[s].append((p.dimension == d, p.subtype == t))
    stressed = [(p, t, d) for p, t, s, d in zip(preds, y, sev, dim, strict=True) if s > 0]
    hi = [(p, t, d) for p, t, s, d in zip(preds, y, sev, dim, strict=True) if s >= 3]
    res = {
        "frames": len(y),
        "dimension_accuracy_stressed": float(np.mean([p.dimension == d for p, _, d in stressed])),
        "dimension_accuracy_severity_ge3": float(np.mean([p.dimension == d for p, _, d in hi])),
        "subtype_accuracy_stressed": float(np.mean([p.subtype == t for p, t, _ in stressed])),
        "clean_detection_rate": float(np.mean(by_sev[0] and [a for a, _ in by_sev[0]])),
        "by_dimension_stressed": {d: {"dimension": float(np.mean([p.dimension == d for p, _, _ in g])),
                                      "subtype": float(np.mean([p.subtype == t for p, t, _ in g])), "n": len(g)}
                                  for d in sorted({d for _, _, d in stressed})
                                  for g in [[r for r in stressed if r[2] == d]]},
        "by_severity": {str(s): {"dimension": float(np.mean([a for a, _ in v])), "subtype": float(np.mean([b for _, b in v])),
                                 "n": len(v)} for s, v in sorted(by_sev.items())},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    for kind, labels, truth, pred in (("dimension", ["none", "material", "lighting", "viewpoint", "geometry"], dim,
                                       [p.dimension for p in preds]),
                                      ("subtype", det.classes, y, [p.subtype for p in preds])):
        m = np.zeros((len(labels), len(labels)))
        for t, p in zip(truth, pred, strict=True):
            m[labels.index(t), labels.index(p)] += 1
        m = m / np.maximum(m.sum(1, keepdims=True), 1)
        fig, ax = plt.subplots(figsize=(1.2 + 0.42 * len(labels), 1 + 0.4 * len(labels)))
        ax.imshow(m, vmin=0, vmax=1, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=70, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"detector confusion ({kind}, row-normalised)")
        fig.savefig(out_dir / f"detector_confusion_{kind}.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
    (out_dir / "detector_eval.json").write_text(json.dumps(res, indent=1))
    return res
