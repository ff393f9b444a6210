"""Train the learned stress detector on robostress's own train split, and evaluate it."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from robostress.agent.cnn import CNNDetector, fit_cnn, prepare
from robostress.agent.detector import LearnedDetector, features
from robostress.agent.skills import gated_skills
from robostress.benchmark.build import BuildConfig, Builder
from robostress.benchmark.load import Benchmark
from robostress.errors import DataError

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


def evaluate_detector(bench: Benchmark, det: LearnedDetector | CNNDetector, out_dir: Path,
                      progress: bool = True) -> dict[str, Any]:
    """Accuracy (dimension, sub-type, per severity and dimension, clean rate), confusion matrices
    (counts in ``detector_eval.json`` and ``detector_confusion.md``, row-normalised figures) of any
    detector on a built benchmark's single-stress frames (compound frames are counted, not scored)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames = sorted(bench.frames.values(), key=lambda f: f.frame_id)
    single = [f for f in frames if not f.stress.is_compound]
    y = [f.stress.subtype for f in single]
    sev = [f.stress.severity for f in single]
    dim = [f.stress.dimension for f in single]
    preds = [det.detect(bench.image(f.image)) for f in tqdm(single, desc="detect", disable=not progress)]
    rows = list(zip(preds, y, sev, dim, strict=True))
    by_sev: dict[int, list[tuple[bool, bool]]] = defaultdict(list)
    for p, t, s, d in rows:
        by_sev[s].append((p.dimension == d, p.subtype == t))
    stressed = [(p, t, d) for p, t, s, d in rows if s > 0]
    hi = [(p, t, d) for p, t, s, d in rows if s >= 3]
    dims = ["none", "material", "lighting", "viewpoint", "geometry"]
    res: dict[str, Any] = {
        "benchmark": {"path": str(bench.root), "content_hash": bench.content_hash},
        "detector": getattr(det, "meta", {}).get("sha"),
        "frames": len(y), "compound_frames_not_scored": len(frames) - len(single),
        "dimension_accuracy_stressed": float(np.mean([p.dimension == d for p, _, d in stressed])),
        "dimension_accuracy_severity_ge3": float(np.mean([p.dimension == d for p, _, d in hi])),
        "subtype_accuracy_stressed": float(np.mean([p.subtype == t for p, t, _ in stressed])),
        "clean_detection_rate": float(np.mean([a for a, _ in by_sev[0]])) if by_sev[0] else float("nan"),
        "by_dimension_stressed": {d: {"dimension": float(np.mean([p.dimension == d for p, _, _ in g])),
                                      "subtype": float(np.mean([p.subtype == t for p, t, _ in g])), "n": len(g)}
                                  for d in sorted({d for _, _, d in stressed})
                                  for g in [[r for r in stressed if r[2] == d]]},
        "by_dimension_severity_ge3": {d: {"dimension": float(np.mean([p.dimension == d for p, _, _ in g])),
                                          "n": len(g)}
                                      for d in sorted({d for _, _, d in hi}) for g in [[r for r in hi if r[2] == d]]},
        "by_severity": {str(s): {"dimension": float(np.mean([a for a, _ in v])), "subtype": float(np.mean([b for _, b in v])),
                                 "n": len(v)} for s, v in sorted(by_sev.items())},
        "confusion": {},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    md = [f"# Detector {res['detector']} on {bench.root.name} ({len(y)} single-stress frames)", ""]
    keep = [s in (0, 3, 4, 5) for s in sev]
    tables: list[tuple[str, list[str], list[str], list[str]]] = [
        ("dimension", dims, dim, [p.dimension for p in preds]),
        ("dimension_severity_ge3", dims, [d for d, k in zip(dim, keep, strict=True) if k],
         [p.dimension for p, k in zip(preds, keep, strict=True) if k]),
        ("subtype", list(det.classes), y, [p.subtype for p in preds])]
    for kind, labels, truth, guess in tables:
        m = np.zeros((len(labels), len(labels)), dtype=int)
        for t, g in zip(truth, guess, strict=True):
            m[labels.index(t), labels.index(g)] += 1
        res["confusion"][kind] = {"labels": labels, "counts": m.tolist()}
        md += [f"## {kind} (rows: true, columns: predicted; clean frames in every table)", "",
               "| true \\ predicted | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
        md += [f"| {lab} | " + " | ".join(str(v) for v in row) + " |" for lab, row in zip(labels, m, strict=True)]
        md.append("")
        _confusion_figure(plt, m / np.maximum(m.sum(1, keepdims=True), 1), labels, kind,
                          out_dir / f"detector_confusion_{kind}.png")
    (out_dir / "detector_eval.json").write_text(json.dumps(res, indent=1))
    (out_dir / "detector_confusion.md").write_text("\n".join(md) + "\n")
    return res


def _confusion_figure(plt: Any, m: np.ndarray, labels: list[str], kind: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(1.2 + 0.42 * len(labels), 1 + 0.4 * len(labels)))
    ax.imshow(m, vmin=0, vmax=1, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=70, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"detector confusion ({kind}, row-normalised)")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)

def frames_of(bench: Benchmark, progress: bool = True) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """Prepared CNN inputs, ``features`` rows, sub-type labels and scene ids of every single-stress
    frame (compound frames carry two labels and are left out)."""
    xs, fs, ys, scenes = [], [], [], []
    for f in tqdm(sorted(bench.frames.values(), key=lambda f: f.frame_id), desc="frames", disable=not progress):
        if f.stress.is_compound:
            continue
        rgb = bench.image(f.image)
        xs.append(prepare(rgb))
        fs.append(features(rgb))
        ys.append(f.stress.subtype)
        scenes.append(f.frame_id.split("/")[0])
    return np.array(xs), np.array(fs), ys, scenes


def _oof_logits(x: np.ndarray, f: np.ndarray, y: list[str], scenes: list[str], epochs: int, seed: int,
                folds: int) -> tuple[list[str], np.ndarray]:
    """Out-of-fold logits: each scene's frames scored by a network that never saw that scene."""
    names = sorted(set(scenes))
    if len(names) < folds:
        raise DataError(f"fitting the detector's gates needs at least {folds} train scenes, got {len(names)}")
    fold = np.array([names.index(s) % folds for s in scenes])
    out = np.zeros((len(y), len(set(y) | {"none"})))
    classes: list[str] = []
    for k in range(folds):
        tr = fold != k
        det, _ = fit_cnn(x[tr], f[tr], [v for v, t in zip(y, tr, strict=True) if t], epochs=epochs, seed=seed + k)
        classes = det.classes
        for i in np.nonzero(~tr)[0]:
            out[i] = det.logits_prepared(x[i], f[i])
    return classes, out


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(-1, keepdims=True))
    return np.asarray(e / e.sum(-1, keepdims=True))


def fit_gate(classes: list[str], logits: np.ndarray, y: list[str], *, clean_target: float = 0.9,
             precision: float = 0.9) -> tuple[float, dict[str, float]]:
    """The clean bias and one confidence threshold per edit skill, from out-of-fold logits.

    The bias is the smallest (of a grid) that calls ``clean_target`` of the clean frames clean. A
    skill's threshold is the lowest confidence (the summed probability of the sub-types it
    answers) at which at least ``precision`` of the frames it would edit carry a stress it
    answers; a skill that never gets there is off (threshold above 1)."""
    none = classes.index("none")
    clean = np.array([v == "none" for v in y])
    bias = 0.0
    for bias in np.arange(0.0, 6.01, 0.25):
        z = logits.copy()
        z[:, none] += bias
        if np.mean(z[clean].argmax(1) == none) >= clean_target:
            break
    z = logits.copy()
    z[:, none] += bias
    p = _softmax(z)
    top = np.array(classes)[p.argmax(1)]
    truth = np.array(y)
    thresholds: dict[str, float] = {}
    for skill, subs in sorted(gated_skills().items()):
        conf = p[:, [classes.index(c) for c in subs if c in classes]].sum(1)
        picked = np.isin(top, subs)
        thresholds[skill] = 1.01
        for t in np.arange(0.3, 1.0, 0.05):
            sel = picked & (conf >= t)
            if sel.sum() >= 5 and np.mean(np.isin(truth[sel], subs)) >= precision:
                thresholds[skill] = round(float(t), 2)
                break
    return float(bias), thresholds


def train_cnn_detector(benches: list[Benchmark], out: Path, *, epochs: int = 60, seed: int = 900000, folds: int = 2,
                       command: str = "", progress: bool = True) -> dict[str, Any]:
    """Train the CNN detector on already built train-split benchmarks (never on evaluation
    benchmarks): out-of-fold networks fit the clean bias and the skill gates, then one network is
    trained on every frame and saved with its card."""
    parts = [frames_of(b, progress) for b in benches]
    x = np.concatenate([p[0] for p in parts])
    f = np.concatenate([p[1] for p in parts])
    y = [v for p in parts for v in p[2]]
    scenes = [s for p in parts for s in p[3]]
    classes, oof = _oof_logits(x, f, y, scenes, epochs, seed, folds)
    bias, thresholds = fit_gate(classes, oof, y)
    det, curve = fit_cnn(x, f, y, epochs=epochs, seed=seed)
    det.none_bias = bias
    z = oof.copy()
    z[:, classes.index("none")] += bias
    pred = [classes[k] for k in z.argmax(1)]
    clean = [p == "none" for p, t in zip(pred, y, strict=True) if t == "none"]
    sha = hashlib.sha256(b"".join(det.t[k].tobytes() for k in sorted(det.t))).hexdigest()[:16]
    det.meta = {
        "sha": sha, "kind": "cnn", "command": command, "seed": seed, "epochs": epochs, "folds": folds,
        "train_benchmarks": [{"path": b.root.name, "content_hash": b.content_hash, "identity": b.identity,
                              "seed": b.manifest["config"]["seed"], "scenes": b.manifest["config"]["num_scenes"],
                              "size": b.manifest["renderer"]["width"]} for b in benches],
        "train_frames": len(y), "loss_curve": [round(v, 4) for v in curve], "thresholds": thresholds,
        "out_of_fold": {"clean_called_clean": float(np.mean(clean)),
                        "subtype_accuracy_stressed": float(np.mean([p == t for p, t in zip(pred, y, strict=True)
                                                                    if t != "none"]))},
    }
    det.save(out)
    return det.meta
