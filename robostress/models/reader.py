"""``reader``: a small vision-language model trained here from scratch, on clean train-split frames.

A witness, not a contender: it shows that the images carry the answers and that the stresses hurt
a model that reads them (docs/reader.md). The network is ``reader_net``; what it reads from an
item's text is ``reader_text``; training is ``reader_train``. Weights are one safetensors file
whose metadata holds the network's config and vocabulary (``weights/reader.safetensors``, with a
JSON card beside it: the training command, data hash, seed and curve).

Replies use the formats every model uses: a letter, a box ``[x1, y1, x2, y2]`` or a point
``[x, y]`` in permille. It reads an item's question type, question and options, never its truth.
``reader_blind`` is the text-only twin: the same network trained and run with the image zeroed.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from robostress.errors import BackendError, ConfigError
from robostress.models.base import Model, Request, Response
from robostress.models.reader_net import SIZE, build
from robostress.models.reader_text import MAX_MENTIONS, ItemText, Vocab, read_item
from robostress.models.weight_free import permille_json
from robostress.questions.item import LETTERS, Item
from robostress.render.io import read_rgb

READER_VERSION = "v1"
WEIGHTS = Path(__file__).parent / "weights"
IMAGE_CACHE = 8  # encoded images kept between requests (a frame's items arrive together)
INSTALL_HINT = "the reader model needs torch: pip install 'robostress[hf]' (or torch alone)"


def _torch() -> Any:
    try:
        import torch
    except ImportError as e:
        raise BackendError(INSTALL_HINT) from e
    return torch


def prepare_image(rgb: np.ndarray) -> np.ndarray:
    """An RGB frame of any size as the network's SIZE x SIZE uint8 input (area resampling)."""
    if rgb.shape[:2] == (SIZE, SIZE):
        return np.ascontiguousarray(rgb[..., :3])
    return cv2.resize(np.ascontiguousarray(rgb[..., :3]), (SIZE, SIZE), interpolation=cv2.INTER_AREA)


def _pad(rows: list[list[int]], n: int | None = None) -> np.ndarray:
    width = max([1, *(len(r) for r in rows)])
    out = np.zeros((n if n is not None else len(rows), width), np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def collate(texts: Sequence[ItemText], frames: Sequence[int], vocab: Vocab) -> dict[str, Any]:
    """Padded tensors of a batch of item texts on the frames (indices into the encoded batch)."""
    torch = _torch()
    n = len(texts)
    m = MAX_MENTIONS
    o = max([1, *(len(t.options) for t in texts)])
    tm = max([1, *(len(x) for t in texts for x in t.mentions),
              *(len(x) for t in texts for om in t.option_mentions for x in om), *(len(t.words) for t in texts)])
    qm = np.zeros((n, m, tm), np.int64)
    om = np.zeros((n, o, m, tm), np.int64)
    has_opt = np.zeros((n, o), bool)
    opts: list[list[int]] = []
    for i, t in enumerate(texts):
        ment = list(t.mentions) or ([t.words] if t.format != "mc" else [])  # ground the question itself
        for j, x in enumerate(ment[:m]):
            ids = vocab.ids(x)[:tm]
            qm[i, j, : len(ids)] = ids
        for k in range(o):
            if k < len(t.options):
                has_opt[i, k] = True
                opts.append(vocab.ids(t.options[k]))
                for j, x in enumerate(t.option_mentions[k][:m]):
                    om[i, k, j, : len(x)] = vocab.ids(x)
            else:
                opts.append([])
    opt = _pad(opts).reshape(n, o, -1)
    point = np.array([t.point or (0.5, 0.5) for t in texts], np.float32)
    return {"frame": torch.as_tensor(np.asarray(frames, np.int64)), "q": torch.as_tensor(_pad([vocab.ids(t.words) for t in texts])),
            "qtype": torch.as_tensor(np.array([vocab.qtype(t.qtype) for t in texts], np.int64)),
            "point": torch.as_tensor(point), "has_point": torch.as_tensor(np.array([t.point is not None for t in texts], np.float32)),
            "qm": torch.as_tensor(qm), "opt": torch.as_tensor(opt), "om": torch.as_tensor(om),
            "has_opt": torch.as_tensor(has_opt),
            "is_place": torch.as_tensor(np.array([t.qtype == "placement" for t in texts], bool))}


def images_tensor(images: Sequence[np.ndarray]) -> Any:
    """A float batch (B, 3, S, S) in [0, 1] of prepared uint8 images."""
    torch = _torch()
    return torch.as_tensor(np.stack(images)).permute(0, 3, 1, 2).float() / 255.0


def _upsampled(logits: np.ndarray, size: int = SIZE) -> np.ndarray:
    return cv2.resize(logits.astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR)


def peak_point(logits: np.ndarray) -> list[float]:
    """The permille point of a G x G logit map's peak (on a bilinear SIZE x SIZE upsampling)."""
    up = _upsampled(logits)
    y, x = np.unravel_index(int(np.argmax(up)), up.shape)
    return [round((x + 0.5) * 1000 / SIZE, 1), round((y + 0.5) * 1000 / SIZE, 1)]


def peak_box(logits: np.ndarray) -> list[float]:
    """The permille box of a grounding map: the component of cells above half probability (or
    above half the peak's, when the peak is below it) that holds the peak."""
    up = _upsampled(logits)
    p = 1 / (1 + np.exp(-up))
    y, x = np.unravel_index(int(np.argmax(up)), up.shape)
    on = (p >= min(0.5, 0.5 * float(p[y, x]))).astype(np.uint8)
    _, lab = cv2.connectedComponents(on, connectivity=8)
    ys, xs = np.nonzero(lab == lab[y, x])
    s = 1000 / SIZE
    return [round(xs.min() * s, 1), round(ys.min() * s, 1), round((xs.max() + 1) * s, 1), round((ys.max() + 1) * s, 1)]


_DTYPES = {"F32": np.float32, "I64": np.int64}


def write_safetensors(tensors: dict[str, np.ndarray], metadata: dict[str, str], path: Path) -> None:
    """A safetensors file (8-byte header length, JSON header, raw little-endian data) of float32
    and int64 arrays; written with numpy alone, read by the ``safetensors`` package too."""
    header: dict[str, Any] = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        a = np.asarray(tensors[name], order="C")  # (ascontiguousarray would make a 0-d array 1-d)
        code = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}[a.dtype]
        b = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, sort_keys=True).encode()
    h += b" " * (-len(h) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def read_safetensors(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(arrays, metadata) of a safetensors file of float32 and int64 arrays; ValueError if it is
    not one."""
    raw = path.read_bytes()
    if len(raw) < 8:
        raise ValueError("shorter than a safetensors header")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError("header length beyond the end of the file")
    header = json.loads(raw[8: 8 + n])
    meta = header.pop("__metadata__", {}) or {}
    body = memoryview(raw)[8 + n:]
    out = {}
    for name, h in header.items():
        a, b = h["data_offsets"]
        if h["dtype"] not in _DTYPES or not 0 <= a <= b <= len(body):
            raise ValueError(f"tensor {name}: dtype {h['dtype']} or offsets {h['data_offsets']} not readable")
        out[name] = np.frombuffer(body[a:b], dtype=np.dtype(_DTYPES[h["dtype"]]).newbyteorder("<")).reshape(h["shape"]).copy()
    return out, meta


def save_weights(net: Any, cfg: dict[str, Any], vocab: dict[str, list[str]], path: Path) -> None:
    """Write the network's weights with its config and vocabulary in the metadata."""
    state = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    write_safetensors(state, {"reader_version": READER_VERSION, "config": json.dumps(cfg, sort_keys=True),
                              "vocab": json.dumps(vocab)}, path)


def load_weights(path: Path) -> tuple[Any, Vocab, dict[str, Any]]:
    """(network in eval mode, vocabulary, config) of a weights file; ConfigError naming what is
    wrong with a missing, corrupt or foreign file."""
    torch = _torch()
    if not path.is_file():
        raise ConfigError(f"reader weights {path} not found; train them with `python -m "
                          "robostress.models.reader_train` (docs/reader.md) or set model.weights")
    try:
        arrays, meta = read_safetensors(path)
        if meta.get("reader_version") != READER_VERSION:
            raise ValueError(f"reader_version {meta.get('reader_version')!r}, this code reads {READER_VERSION!r}")
        cfg, table = json.loads(meta["config"]), json.loads(meta["vocab"])
        net = build(cfg)
        net.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()})
    except Exception as e:  # a corrupt file fails in the header, json or torch: all one user error
        raise ConfigError(f"reader weights {path} cannot be loaded ({type(e).__name__}: "
                          f"{' '.join(str(e).split())[:200]}); retrain them (docs/reader.md)") from None
    net.eval()
    return net, Vocab(table), cfg


class Reader(Model):
    """The trained reader: encodes each frame once, then answers its items (see module doc)."""

    name = "reader"
    reads_one_image = True
    default_weights = "reader.safetensors"

    def __init__(self, seed: int = 0, weights: str | None = None, threads: int = 1, **unused: Any) -> None:
        if unused:
            raise ConfigError(f"{self.name}: unknown option(s) {sorted(unused)}")
        torch = _torch()
        torch.set_num_threads(max(1, int(threads)))
        self.seed = int(seed)
        self.path = Path(weights) if weights else WEIGHTS / self.default_weights
        self.net, self.vocab, self.cfg = load_weights(self.path)
        self._cache: OrderedDict[str, tuple[Any, Any]] = OrderedDict()

    @property
    def reads_pixels(self) -> bool:
        """False for the text-only twin (weights trained with the image zeroed): it needs no image."""
        return bool(self.cfg.get("image", True))

    def _encoded(self, image: str) -> tuple[Any, Any]:
        if image not in self._cache:
            torch = _torch()
            with torch.no_grad():
                # the text-only twin's network zeroes any image (reader_net.encode): no file is read
                rgb = read_rgb(Path(image)) if self.reads_pixels else np.zeros((SIZE, SIZE, 3), np.uint8)
                self._cache[image] = self.net.encode(images_tensor([prepare_image(rgb)]))
            while len(self._cache) > IMAGE_CACHE:
                self._cache.popitem(last=False)
        self._cache.move_to_end(image)
        return self._cache[image]

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """Answer a batch, one network pass per image."""
        out: list[Response | None] = [None] * len(requests)
        groups: dict[str, list[int]] = {}
        for i, r in enumerate(requests):
            if r.item is None or (not r.images and self.reads_pixels):
                out[i] = Response(text="", error=f"{self.name}: needs the item and its image (use the runner)")
                continue
            groups.setdefault(r.images[0] if self.reads_pixels else "", []).append(i)
        for image, idx in groups.items():
            try:
                replies = self._answer(image, [requests[i].item for i in idx])  # type: ignore[misc]
            except (OSError, ValueError) as e:
                replies = [Response(text="", error=f"{self.name}: {type(e).__name__}: {e}")] * len(idx)
            for i, rep in zip(idx, replies, strict=True):
                out[i] = rep
        return [r for r in out if r is not None]

    def _answer(self, image: str, items: list[Item]) -> list[Response]:
        torch = _torch()
        feats, depth = self._encoded(image)
        out = []
        for it in items:  # one item a pass: padding to a batch's longest text moved near-ties with the batch size
            with torch.no_grad():
                res = self.net(feats, depth, collate([read_item(it.qtype, it.format, it.question, it.options)],
                                                     [0], self.vocab))
            if it.format == "mc":
                out.append(Response(text=LETTERS[int(res["scores"][0].argmax())]))
            elif it.format == "box":
                out.append(Response(text=permille_json(peak_box(res["ground"][0].numpy()))))
            else:
                key = "place" if it.qtype == "placement" else "ground"
                out.append(Response(text=permille_json(peak_point(res[key][0].numpy()))))
        return out

    def describe(self) -> dict[str, Any]:
        """Name, version and the identity of the weights."""
        return {"backend": self.name, "seed": self.seed, "version": READER_VERSION, "answers": "one item a pass",
                "weights": self.path.name,
                "weights_sha256": hashlib.sha256(self.path.read_bytes()).hexdigest()[:16],
                "image": bool(self.cfg.get("image", True))}


class ReaderBlind(Reader):
    """The text-only twin: the reader's network trained and run with the image zeroed."""

    name = "reader_blind"
    default_weights = "reader_blind.safetensors"


