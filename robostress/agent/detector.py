"""Stress detectors: which physical stress (if any) dominates an image.

``LearnedDetector``: resolution-independent image statistics + a multinomial logistic
regression trained (numpy, full-batch, fixed seed) on robostress's own *train* split, whose
scenes and seeds are disjoint from the evaluation benchmarks. Weights are an ``.npz`` read with
``allow_pickle=False`` (no code can run on load) and carry a format version.
``OracleDetector`` reads the true stress from the item (an ablation: perfect detection).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from robostress.agent.skills import estimate_roll
from robostress.errors import DataError
from robostress.models.base import Request
from robostress.questions.item import LETTERS
from robostress.questions.templates import mc_prompt
from robostress.scoring.parse import parse_choice
from robostress.stress.base import get_stress

FORMAT_VERSION = 1
DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "detector.npz"


def _blocks(x: np.ndarray, n: int = 6) -> np.ndarray:
    h, w = x.shape
    return np.array([[x[i * h // n:(i + 1) * h // n, j * w // n:(j + 1) * w // n].mean() for j in range(n)]
                     for i in range(n)])


def features(rgb: np.ndarray) -> np.ndarray:
    """A fixed-length vector of image statistics (same meaning at any resolution)."""
    small = cv2.resize(rgb, (128, 128), interpolation=cv2.INTER_AREA) if rgb.shape[0] != 128 else rgb
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float64) / 255
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV).astype(np.float64) / 255
    lum_p = np.percentile(gray, [2, 10, 25, 50, 75, 90, 98])
    blk = _blocks(gray)
    med = max(float(np.median(blk)), 1e-3)
    lap = np.abs(cv2.Laplacian(gray.astype(np.float32), cv2.CV_32F))
    edges = cv2.Canny((gray * 255).astype(np.uint8), 40, 120) > 0
    sat = hsv[..., 1]
    bright = gray > 0.9
    ys, xs = np.nonzero(edges)
    spread = (np.percentile(xs, 95) - np.percentile(xs, 5)) / 128 if len(xs) > 8 else 0.0
    border = float(edges[:, :3].mean() + edges[:, -3:].mean() + edges[:3].mean() + edges[-3:].mean())
    sat_obj = sat[sat > 0.45]
    roll = estimate_roll(small)
    return np.array([
        *lum_p, float(gray.std()), float((small >= 254).any(-1).mean()), float((small <= 8).all(-1).mean()),
        float(sat.mean()), float(np.percentile(sat, 90)), float((sat > 0.45).mean()),
        float(sat_obj.mean()) if sat_obj.size else 0.0, float((bright & (sat < 0.15)).mean()),
        float(blk.max() / med), float(blk.min() / med), float(blk.std() / med),
        float(lap.mean() / max(gray.mean(), 1e-3)), float(edges.mean()), spread, border,
        abs(roll) / 45, math.sin(math.radians(2 * roll)),
        float(np.abs(np.diff(blk, axis=0)).mean() / med), float(np.abs(np.diff(blk, axis=1)).mean() / med),
    ])


@dataclass
class Detection:
    """A detector's verdict."""

    subtype: str  # 'none' for clean
    dimension: str
    confidence: float
    probs: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        """For agent traces."""
        top = sorted(self.probs.items(), key=lambda kv: -kv[1])[:3]
        return {"subtype": self.subtype, "dimension": self.dimension, "confidence": round(self.confidence, 4),
                "top3": [[k, round(v, 4)] for k, v in top]}


def _dimension_of(subtype: str) -> str:
    if subtype == "none":
        return "none"

    return get_stress(subtype).dimension


class LearnedDetector:
    """Logistic regression over ``features`` (see module docstring)."""

    def __init__(self, classes: list[str], mean: np.ndarray, std: np.ndarray, w: np.ndarray, b: np.ndarray,
                 meta: dict[str, Any] | None = None) -> None:
        self.classes, self.mean, self.std, self.w, self.b = classes, mean, std, w, b
        self.meta = meta or {}

    def probs(self, rgb: np.ndarray) -> np.ndarray:
        """Class probabilities of one image."""
        z = ((features(rgb) - self.mean) / self.std) @ self.w + self.b
        e = np.exp(z - z.max())
        return e / e.sum()

    def detect(self, rgb: np.ndarray) -> Detection:
        """Sub-type with the highest probability; dimension by summed probability."""
        return self.detect_features(features(rgb))

    def detect_features(self, f: np.ndarray) -> Detection:
        """Detection from a precomputed feature vector."""
        z = ((f - self.mean) / self.std) @ self.w + self.b
        p = np.exp(z - z.max())
        p /= p.sum()
        by_dim: dict[str, float] = {}
        for c, v in zip(self.classes, p, strict=True):
            d = _dimension_of(c)
            by_dim[d] = by_dim.get(d, 0.0) + float(v)
        k = int(np.argmax(p))
        return Detection(self.classes[k], max(by_dim, key=lambda d: by_dim[d]), float(p[k]),
                         {c: float(v) for c, v in zip(self.classes, p, strict=True)})

    @classmethod
    def fit(cls, x: np.ndarray, labels: list[str], *, l2: float = 1e-3, steps: int = 3000, lr: float = 0.5,
            seed: int = 0) -> LearnedDetector:
        """Full-batch gradient descent on the softmax cross-entropy (deterministic)."""
        classes = sorted(set(labels))
        y = np.array([classes.index(v) for v in labels])
        mean, std = x.mean(0), x.std(0) + 1e-6
        xs = (x - mean) / std
        g = np.random.default_rng(seed)
        w = g.normal(0, 0.01, (x.shape[1], len(classes)))
        b = np.zeros(len(classes))
        onehot = np.eye(len(classes))[y]
        for _ in range(steps):
            z = xs @ w + b
            z -= z.max(1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(1, keepdims=True)
            gz = (p - onehot) / len(y)
            w -= lr * (xs.T @ gz + l2 * w)
            b -= lr * gz.sum(0)
        return cls(classes, mean, std, w, b)

    def save(self, path: Path, meta: dict[str, Any]) -> None:
        """Write the weights as npz (arrays and strings only)."""
        path.parent.mkdir(parents=True, exist_ok=True)

        np.savez(path, format_version=np.array(FORMAT_VERSION), classes=np.array(self.classes), mean=self.mean,
                 std=self.std, w=self.w, b=self.b, meta=np.array(json.dumps(meta, sort_keys=True)))

    @classmethod
    def load(cls, path: Path | str = DEFAULT_WEIGHTS) -> LearnedDetector:
        """Read weights; DataError if missing, corrupt or of another format version."""
        path = Path(path)
        if not path.is_file():
            raise DataError(f"detector weights not found at {path}; retrain with `robostress train-detector`")
        try:
            with np.load(path, allow_pickle=False) as z:
                version = int(z["format_version"])
                if version != FORMAT_VERSION:
                    raise DataError(f"{path}: detector format_version {version} is not supported "
                                    f"(this robostress reads {FORMAT_VERSION}); retrain with `robostress train-detector`")
                det = cls([str(c) for c in z["classes"]], z["mean"], z["std"], z["w"], z["b"],
                          json.loads(str(z["meta"])))
        except DataError:
            raise
        except Exception as e:  # zip errors, missing arrays, pickled objects refused
            raise DataError(f"{path} is not a valid detector file ({type(e).__name__}: {e})") from None
        if det.w.shape != (len(det.mean), len(det.classes)):
            raise DataError(f"{path}: weight shapes do not match the feature and class lists")
        return det


class OracleDetector:
    """Reads the true stress from the item (ablation: perfect detection)."""

    def detect_item(self, item: Any) -> Detection:
        """The item's own stress, with confidence 1."""
        return Detection(item.subtype, item.dimension, 1.0, {item.subtype: 1.0})


VLM_OPTIONS: tuple[tuple[str, str], ...] = (
    ("none", "nothing: the image looks normal"), ("global_underexposure", "the whole image is too dark"),
    ("global_overexposure", "the whole image is too bright or washed out"),
    ("local_underexposure", "part of the scene lies in a dark shadow"),
    ("local_overexposure", "a bright spot or glare hides part of the scene"),
    ("small_scale", "the objects are tiny and far away"), ("other", "some other problem"),
)
VLM_PROMPT = "Which problem most affects this image of a robot's workspace?"


class VLMDetector:
    """Asks the wrapped model itself which stress it sees (one extra call per image).

    The options are the stresses that have an edit skill, plus "nothing" and "other"; the
    answer's log-probability, when the backend gives one, is the confidence (else 1).
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.calls = 0

    def detect_many(self, paths: list[str]) -> list[Detection]:
        """One batched request per image."""
        texts = tuple(t for _, t in VLM_OPTIONS)
        letters = tuple(LETTERS[: len(texts)])
        reqs = [Request(id=f"detect:{p}", prompt=mc_prompt(VLM_PROMPT, texts), images=(p,), choices=letters,
                        max_tokens=4) for p in paths]
        self.calls += len(reqs)
        out = []
        for r in self.model.generate(reqs):
            parsed = parse_choice(r.text, texts)
            k = letters.index(parsed.value) if parsed.value else len(texts) - 1
            sub = VLM_OPTIONS[k][0]
            conf = 1.0
            if r.logprobs and parsed.value in r.logprobs:
                lp = np.array(list(r.logprobs.values()))
                conf = float(np.exp(r.logprobs[parsed.value]) / np.exp(lp).sum())
            dim = "none" if sub in ("none", "other") else _dimension_of(sub)
            out.append(Detection(sub, dim, conf, {sub: conf}))
        return out
