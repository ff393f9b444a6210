"""A small CNN stress detector: trained with torch, run with numpy.

The network sees the frame at 64 x 64 (area-averaged from any size) and, beside it, the image
statistics of ``features``; four 3x3 convolutions with ReLU and 2x2 max pooling, global mean and
max pooling (max keeps a small glare spot or a stray distractor visible), and a two-layer head
over the pooled maps and the standardised statistics. Classes: 'none' (clean) and every single
sub-type. Inference is plain numpy (``CNNDetector``), so the agent needs no torch; training
(``fit_cnn``) imports torch inside the function: it is an optional extra.

Weights are an ``.npz`` read with ``allow_pickle=False`` (arrays and strings only; no code can
run on load), with a format version, the architecture and a provenance card in ``meta``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from robostress.agent.detector import Detection, _dimension_of, features
from robostress.errors import DataError

CNN_FORMAT = "robostress-cnn-detector/1"
SIZE = 64
CHANNELS = (16, 32, 48, 64)
HIDDEN = 64
DEFAULT_CNN_WEIGHTS = Path(__file__).resolve().parent / "weights" / "detector_cnn.npz"
_CONVS = tuple(f"conv{i}" for i in range(len(CHANNELS)))


def prepare(rgb: np.ndarray) -> np.ndarray:
    """The network's input: (3, 64, 64) float32 in [-0.5, 0.5]."""
    if rgb.shape[:2] != (SIZE, SIZE):
        rgb = cv2.resize(rgb, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    return (rgb.astype(np.float32) / 255.0 - 0.5).transpose(2, 0, 1).copy()


def _conv_relu(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """3x3 convolution (cross-correlation, padding 1, as torch's Conv2d) and ReLU."""
    c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    cols = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(1, 2))  # (c, h, w, 3, 3)
    cols = cols.transpose(1, 2, 0, 3, 4).reshape(h * wd, c * 9)
    out = cols @ w.reshape(w.shape[0], -1).T + b
    return np.maximum(out, 0).T.reshape(w.shape[0], h, wd)


def _pool(x: np.ndarray) -> np.ndarray:
    c, h, w = x.shape
    return x[:, : h // 2 * 2, : w // 2 * 2].reshape(c, h // 2, 2, w // 2, 2).max(axis=(2, 4))


class CNNDetector:
    """The CNN detector (numpy inference); same ``detect`` interface as ``LearnedDetector``."""

    def __init__(self, classes: list[str], tensors: dict[str, np.ndarray], meta: dict[str, Any] | None = None,
                 none_bias: float = 0.0) -> None:
        self.classes, self.t = classes, {k: v.astype(np.float32) for k, v in tensors.items()}
        self.meta = meta or {}
        self.none_bias = none_bias  # added to the clean logit; fitted on held-out train scenes

    def logits(self, rgb: np.ndarray) -> np.ndarray:
        """Class logits of one image (before the clean bias)."""
        return self.logits_prepared(prepare(rgb), features(rgb))

    def logits_prepared(self, x: np.ndarray, feats: np.ndarray) -> np.ndarray:
        """Class logits from a prepared input and its ``features`` row."""
        for i, name in enumerate(_CONVS):
            x = _conv_relu(x, self.t[f"{name}.weight"], self.t[f"{name}.bias"])
            if i < len(_CONVS) - 1:
                x = _pool(x)
        f = (feats.astype(np.float32) - self.t["feat_mean"]) / self.t["feat_std"]
        z = np.concatenate([x.mean(axis=(1, 2)), x.max(axis=(1, 2)), f])
        hid = np.maximum(self.t["fc1.weight"] @ z + self.t["fc1.bias"], 0)
        return np.asarray(self.t["fc2.weight"] @ hid + self.t["fc2.bias"], dtype=np.float64)

    def probs_from_logits(self, z: np.ndarray) -> np.ndarray:
        """Softmax with the clean bias applied."""
        z = z.copy()
        z[self.classes.index("none")] += self.none_bias
        e = np.exp(z - z.max())
        return np.asarray(e / e.sum())

    def detect(self, rgb: np.ndarray) -> Detection:
        """Sub-type with the highest probability; dimension by summed probability."""
        return self.detection(self.probs_from_logits(self.logits(rgb)))

    def detection(self, p: np.ndarray) -> Detection:
        """A ``Detection`` from class probabilities."""
        k = int(np.argmax(p))
        return Detection(self.classes[k], dimension_from(self.classes, p), float(p[k]),
                         {c: float(v) for c, v in zip(self.classes, p, strict=True)})

    def save(self, path: Path) -> None:
        """Write the weights (npz, arrays and strings only) and a JSON card beside them."""
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {**self.meta, "none_bias": self.none_bias}
        arrays: dict[str, np.ndarray] = {f"t.{k}": v for k, v in self.t.items()}
        arrays.update(format=np.array(CNN_FORMAT), classes=np.array(self.classes),
                      meta=np.array(json.dumps(meta, sort_keys=True)))
        with path.open("wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
        path.with_suffix(".json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path | str = DEFAULT_CNN_WEIGHTS) -> CNNDetector:
        """Read weights; one DataError naming the file if missing, corrupt or of another format."""
        path = Path(path)
        if not path.is_file():
            raise DataError(f"CNN detector weights not found at {path}; retrain with "
                            "`robostress train-detector kind=cnn`")
        try:
            with np.load(path, allow_pickle=False) as z:
                fmt = str(z["format"]) if "format" in z.files else "none"
                if fmt != CNN_FORMAT:
                    raise DataError(f"{path}: detector format {fmt!r} is not {CNN_FORMAT!r}; retrain with "
                                    "`robostress train-detector kind=cnn`")
                tensors = {k[2:]: z[k] for k in z.files if k.startswith("t.")}
                meta = json.loads(str(z["meta"]))
                classes = [str(c) for c in z["classes"]]
        except DataError:
            raise
        except Exception as e:  # zip errors, missing arrays, pickled objects refused
            raise DataError(f"{path} is not a valid CNN detector file ({type(e).__name__}: {e})") from None
        _check_shapes(path, classes, tensors)
        return cls(classes, tensors, meta, none_bias=float(meta.get("none_bias", 0.0)))


def dimension_from(classes: Sequence[str], p: np.ndarray) -> str:
    """'none' when the most probable class is 'none', else the stressed dimension with the largest
    summed probability (a frame that looks clean is not called material because material has
    five sub-types to share the doubt)."""
    if classes[int(np.argmax(p))] == "none":
        return "none"
    by_dim: dict[str, float] = {}
    for c, v in zip(classes, p, strict=True):
        if c != "none":
            by_dim[_dimension_of(c)] = by_dim.get(_dimension_of(c), 0.0) + float(v)
    return max(by_dim, key=lambda d: by_dim[d])


def _check_shapes(path: Path, classes: list[str], t: dict[str, np.ndarray]) -> None:
    need = {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "feat_mean", "feat_std",
            *(f"{c}.{p}" for c in _CONVS for p in ("weight", "bias"))}
    if need - set(t):
        raise DataError(f"{path}: CNN detector file lacks {sorted(need - set(t))}")
    if t["fc2.weight"].shape[0] != len(classes) or "none" not in classes:
        raise DataError(f"{path}: CNN detector's output layer does not match its class list")


def _torch_net(n_classes: int, n_feat: int) -> Any:
    import torch  # optional heavy dependency

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            chans = (3, *CHANNELS)
            for i, name in enumerate(_CONVS):
                self.add_module(name, torch.nn.Conv2d(chans[i], chans[i + 1], 3, padding=1))
            self.fc1 = torch.nn.Linear(2 * CHANNELS[-1] + n_feat, HIDDEN)
            self.fc2 = torch.nn.Linear(HIDDEN, n_classes)
            self.drop = torch.nn.Dropout(0.3)

        def forward(self, x: Any, f: Any) -> Any:
            for i, name in enumerate(_CONVS):
                x = torch.relu(getattr(self, name)(x))
                if i < len(_CONVS) - 1:
                    x = torch.nn.functional.max_pool2d(x, 2)
            z = torch.cat([x.mean((2, 3)), x.amax((2, 3)), f], 1)
            return self.fc2(self.drop(torch.relu(self.fc1(self.drop(z)))))

    return Net()


def fit_cnn(images: np.ndarray, feats: np.ndarray, labels: Sequence[str], *, epochs: int = 40, seed: int = 0,
            clean_weight: float = 3.0, lr: float = 2e-3, batch: int = 64,
            log: Any = None) -> tuple[CNNDetector, list[float]]:
    """Train on prepared images (N, 3, 64, 64) and raw ``features`` rows; returns the detector and
    the mean training loss of every epoch. Deterministic for a seed on one CPU thread."""
    try:
        import torch
    except ImportError:
        raise DataError("training the CNN detector needs torch: pip install 'robostress[hf]'") from None
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    classes = sorted(set(labels) | {"none"})
    y = torch.tensor([classes.index(v) for v in labels])
    mean, std = feats.mean(0), feats.std(0) + 1e-6
    x = torch.tensor(images, dtype=torch.float32)
    f = torch.tensor((feats - mean) / std, dtype=torch.float32)
    net = _torch_net(len(classes), feats.shape[1])
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * ((len(y) + batch - 1) // batch))
    weight = torch.ones(len(classes))
    weight[classes.index("none")] = clean_weight
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    g = torch.Generator().manual_seed(seed)
    curve = []
    for ep in range(epochs):
        net.train()
        order, total = torch.randperm(len(y), generator=g), 0.0
        for s in range(0, len(y), batch):
            idx = order[s:s + batch]
            xb = _augment(x[idx], g)
            loss = loss_fn(net(xb, f[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        curve.append(total / len(y))
        if log is not None:
            log(f"epoch {ep + 1}/{epochs}: loss {curve[-1]:.4f}")
    tensors = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    tensors.update(feat_mean=mean.astype(np.float32), feat_std=std.astype(np.float32))
    return CNNDetector(classes, tensors), curve


def _augment(x: Any, g: Any) -> Any:
    """Horizontal flips, a one-pixel shift, a slight blur and sensor-like noise: the train split is
    rendered at 64 px, the benchmarks at 256 px and area-averaged, so sharpness and noise differ."""
    import torch

    flip = torch.rand(len(x), generator=g) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    dx, dy = (int(v) for v in torch.randint(-1, 2, (2,), generator=g))
    x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
    if float(torch.rand(1, generator=g)) < 0.3:
        k = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16
        x = torch.nn.functional.conv2d(x, k.expand(3, 1, 3, 3).contiguous(), padding=1, groups=3)
    return x + torch.randn(x.shape, generator=g) * 0.01
