"""Train ``reader`` (or its text-only twin) on the clean frames of train-split builds.

    python -m robostress.models.reader_train --data DIR [DIR ...] --out robostress/models/weights/reader.safetensors

Only clean frames (severity 0) and their items are read; a build whose seed is not the train
split's (``robostress/conf/benchmark/train.yaml``) is refused, so no test scene can leak in.
Besides the items' own losses (option choice; the placement region), every visible object's name
is grounded on its instance mask and the depth map is regressed: dense targets from the frames'
own ground truth that teach the encoder far faster than a few thousand answers alone.
The run is seeded and deterministic on one machine; a JSON card beside the weights records the
command, data hash, seed, epochs and the training curve (and a small PNG of it, with --figure).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from robostress.benchmark.load import Benchmark
from robostress.errors import ConfigError
from robostress.models.reader import (
    READER_VERSION,
    _torch,
    collate,
    images_tensor,
    prepare_image,
    save_weights,
)
from robostress.models.reader_net import GRID, build
from robostress.models.reader_text import ItemText, Vocab, build_vocab, read_item, words
from robostress.questions.base import desc
from robostress.questions.item import LETTERS
from robostress.questions.region import decode

log = logging.getLogger(__name__)
TRAIN_YAML = Path(__file__).parents[1] / "conf" / "benchmark" / "train.yaml"


@dataclass
class Data:
    """Clean train frames in memory: images, dense targets, grounding targets and items."""

    images: list[np.ndarray] = field(default_factory=list)  # SIZE x SIZE x 3 uint8
    depth: list[np.ndarray] = field(default_factory=list)  # G x G log-depth (nan where no hit)
    names: list[list[tuple[tuple[str, ...], np.ndarray]]] = field(default_factory=list)  # per frame: (name, G x G mask)
    items: list[tuple[int, ItemText, int, np.ndarray | None]] = field(default_factory=list)  # frame, text, answer, region
    ids: list[str] = field(default_factory=list)  # item id and image hash, for the data hash

    def hash(self) -> str:
        """SHA-256 of the sorted item ids and image hashes: which data trained the model."""
        return hashlib.sha256("\n".join(sorted(self.ids)).encode()).hexdigest()


def _train_seed() -> int:
    """The train split's seed (robostress/conf/benchmark/train.yaml)."""
    return int(yaml.safe_load(TRAIN_YAML.read_text())["seed"])


def _grid(mask: np.ndarray) -> np.ndarray:
    return cv2.resize(mask.astype(np.float32), (GRID, GRID), interpolation=cv2.INTER_AREA)


def load_data(dirs: list[Path], allow_any_seed: bool = False) -> Data:
    """The clean frames and items of train-split builds (ConfigError for a build of another seed)."""
    seed = _train_seed()
    data = Data()
    for d in dirs:
        bench = Benchmark(d)
        if bench.manifest["config"]["seed"] != seed and not allow_any_seed:
            raise ConfigError(f"{d} is a build of seed {bench.manifest['config']['seed']}, not the train split's "
                              f"{seed}: the reader trains on train-split scenes only")
        index: dict[str, int] = {}
        for f in bench.frames.values():
            if f.stress.severity != 0:
                continue
            index[f.frame_id] = len(data.images)
            data.images.append(prepare_image(bench.image(f.image)))
            ids = bench.mask(f.mask)
            dep = bench.mask(f.depth).astype(np.float32) / 1000.0
            valid = _grid(dep > 0)
            mean = _grid(np.log(np.where(dep > 0, dep, 1.0)) * (dep > 0)) / np.maximum(valid, 1e-6)
            data.depth.append(np.where(valid > 0.5, mean, np.nan).astype(np.float32))
            plan = bench.scenes[f.scene_id]
            objs = {o.id: o for o in plan.objects}
            by_name: dict[tuple[str, ...], np.ndarray] = {}
            for num, eid in f.id_map.items():
                if eid in objs:
                    name = tuple(words(desc(objs[eid]))[1:])  # 'the green mug' -> green mug
                elif eid in ("gripper", "robot"):
                    name = (eid,)
                else:
                    try:
                        name = (plan.support(eid).kind,)
                    except KeyError:
                        continue
                m = ids == int(num)
                by_name[name] = by_name.get(name, np.zeros_like(m)) | m
            data.names.append([(n, _grid(m)) for n, m in sorted(by_name.items()) if m.any()])
        for it in bench.items:
            if it.severity != 0 or it.frame_id not in index:
                continue
            region = None
            if it.ability == "placement_grounding":
                free = bench.mask(it.truth["mask"])
                ok = np.isin(free, [int(i) for i in it.truth["instances"]])
                if "region" in it.truth:
                    ok &= decode(it.truth["region"])
                region = _grid(ok)
            ans = LETTERS.index(it.answer) if it.format == "mc" and it.answer else -1
            data.items.append((index[it.frame_id], read_item(it.qtype, it.format, it.question, it.options), ans, region))
            data.ids.append(f"{it.item_id} {bench.frames[it.frame_id].hashes['image']}")
    return data


def _losses(net: Any, data: Data, vocab: Vocab, frames: list[int], by_frame: dict[int, list[int]],
            torch: Any) -> dict[str, Any]:
    fnn = torch.nn.functional
    img = images_tensor([data.images[i] for i in frames])
    feats, depth = net.encode(img)
    out: dict[str, Any] = {}
    tgt = torch.as_tensor(np.stack([data.depth[i] for i in frames]))
    ok = ~torch.isnan(tgt)
    out["depth"] = fnn.smooth_l1_loss(depth[ok], tgt[ok]) if ok.any() else depth.sum() * 0
    # grounding: every visible name of every frame on its mask
    fr, ids, masks = [], [], []
    for k, i in enumerate(frames):
        for n, m in data.names[i]:
            fr.append(k)
            ids.append(vocab.ids(n))
            masks.append(m)
    w = max(len(x) for x in ids)
    idt = torch.as_tensor(np.array([x + [0] * (w - len(x)) for x in ids], np.int64))
    lg = net.ground(feats, torch.as_tensor(fr), net.bag(idt))
    t = torch.as_tensor(np.stack(masks))
    pos = t.sum((1, 2)).clamp(min=1e-3)
    out["ground"] = fnn.binary_cross_entropy_with_logits(lg, t, pos_weight=torch.tensor(4.0)) + \
        (-(t * torch.log_softmax(lg.flatten(1), 1).view_as(lg)).sum((1, 2)) / pos).mean() * 0.2
    # items
    sel = [j for k, i in enumerate(frames) for j in by_frame.get(i, [])]
    if sel:
        loc = {i: k for k, i in enumerate(frames)}
        texts = [data.items[j][1] for j in sel]
        b = collate(texts, [loc[data.items[j][0]] for j in sel], vocab)
        res = net(feats, depth, b)
        mc = [k for k, j in enumerate(sel) if data.items[j][2] >= 0]
        if mc:
            y = torch.as_tensor([data.items[sel[k]][2] for k in mc])
            out["mc"] = fnn.cross_entropy(res["scores"][mc], y)
        pl = [k for k, j in enumerate(sel) if data.items[j][3] is not None]
        if pl:
            t = torch.as_tensor(np.stack([np.asarray(data.items[sel[k]][3]) for k in pl]))
            p = res["place"][pl]
            out["place"] = (-(t * torch.log_softmax(p.flatten(1), 1).view_as(p)).sum((1, 2))
                            / t.sum((1, 2)).clamp(min=1e-3)).mean() * 0.3
    return out


def _evaluate(net: Any, data: Data, vocab: Vocab, frames: list[int], by_frame: dict[int, list[int]],
              torch: Any) -> dict[str, float]:
    """Multiple-choice accuracy per question type on the given frames (a held-out check)."""
    net.eval()
    right: dict[str, list[int]] = {}
    with torch.no_grad():
        for s in range(0, len(frames), 16):
            fs = frames[s: s + 16]
            sel = [j for i in fs for j in by_frame.get(i, []) if data.items[j][2] >= 0]
            if not sel:
                continue
            feats, depth = net.encode(images_tensor([data.images[i] for i in fs]))
            loc = {i: k for k, i in enumerate(fs)}
            res = net(feats, depth, collate([data.items[j][1] for j in sel], [loc[data.items[j][0]] for j in sel], vocab))
            pred = res["scores"].argmax(1).tolist()
            for k, j in enumerate(sel):
                right.setdefault(data.items[j][1].qtype, []).append(int(pred[k] == data.items[j][2]))
    net.train()
    acc = {q: round(sum(v) / len(v), 4) for q, v in sorted(right.items())}
    n = sum(len(v) for v in right.values())
    acc["_all"] = round(sum(sum(v) for v in right.values()) / max(1, n), 4)
    return acc


def train(data: Data, out: Path, *, epochs: int = 30, seed: int = 0, dim: int = 96, batch: int = 16,
          lr: float = 2e-3, image: bool = True, holdout: float = 0.0, threads: int = 1,
          command: str = "", figure: Path | None = None, max_steps: int | None = None) -> dict[str, Any]:
    """Train on ``data`` and write the weights and their card; returns the card."""
    torch = _torch()
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    table = build_vocab([t for _, t, _, _ in data.items], [n for f in data.names for n, _ in f])
    vocab = Vocab(table)
    cfg = {"dim": dim, "vocab": len(vocab.words), "qtypes": len(vocab.qtypes), "image": image, "max_mentions": 3}
    net = build(cfg)
    g = np.random.default_rng(seed)
    frames = list(range(len(data.images)))
    order = g.permutation(len(frames)).tolist()
    n_hold = int(round(len(frames) * holdout))
    held, fit = sorted(order[:n_hold]), order[n_hold:]
    by_frame: dict[int, list[int]] = {}
    for j, (i, _, _, _) in enumerate(data.items):
        by_frame.setdefault(i, []).append(j)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * max(1, -(-len(fit) // batch))
    if max_steps is not None:
        steps = min(steps, max_steps)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    curve: list[dict[str, Any]] = []
    step, t0 = 0, time.perf_counter()
    net.train()
    for ep in range(epochs):
        perm = [fit[i] for i in g.permutation(len(fit))]
        sums: dict[str, float] = {}
        nb = 0
        for s in range(0, len(perm), batch):
            if step >= steps:
                break
            parts = _losses(net, data, vocab, perm[s: s + batch], by_frame, torch)
            loss = sum(parts.values())
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            sched.step()
            step += 1
            nb += 1
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            sums["total"] = sums.get("total", 0.0) + float(loss.detach())
        if nb == 0:
            break
        row: dict[str, Any] = {"epoch": ep + 1, "step": step, "seconds": round(time.perf_counter() - t0, 1),
                               **{k: round(v / nb, 4) for k, v in sorted(sums.items())}}
        if held and (ep + 1) % 5 == 0 or held and ep + 1 == epochs:
            row["heldout_mc"] = _evaluate(net, data, vocab, held, by_frame, torch)
        curve.append(row)
        log.info("epoch %s", json.dumps(row))
    net.eval()
    save_weights(net, cfg, table, out)
    card = {"model": "reader" if image else "reader_blind", "reader_version": READER_VERSION, "command": command,
            "seed": seed, "epochs": epochs, "steps": step, "batch_frames": batch, "lr": lr, "dim": dim,
            "image": image, "data_hash": data.hash(), "frames": len(data.images), "items": len(data.items),
            "holdout_frames": len(held), "parameters": sum(p.numel() for p in net.parameters()),
            "weights_sha256": hashlib.sha256(out.read_bytes()).hexdigest(), "curve": curve}
    out.with_suffix(".json").write_text(json.dumps(card, indent=1) + "\n")
    if figure is not None:
        plot_curve(curve, figure)
    return card


def plot_curve(curve: list[dict[str, Any]], path: Path) -> None:
    """A small PNG of the training losses (and held-out accuracy, if measured)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3), dpi=100)
    ep = [r["epoch"] for r in curve]
    for k in ("total", "mc", "ground", "depth", "place"):
        if k in curve[0]:
            ax.plot(ep, [float(r.get(k, float("nan"))) for r in curve], label=k)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ho = [(r["epoch"], r["heldout_mc"]["_all"]) for r in curve if "heldout_mc" in r]
    if ho:
        ax2 = ax.twinx()
        ax2.plot(*zip(*ho, strict=True), "k--o", label="held-out mc acc")
        ax2.set_ylabel("held-out accuracy")
        ax2.set_ylim(0, 1)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    p = argparse.ArgumentParser(prog="python -m robostress.models.reader_train", description=__doc__.split("\n")[0])
    p.add_argument("--data", nargs="+", required=True, type=Path, help="train-split build folders")
    p.add_argument("--out", required=True, type=Path, help="weights file (.safetensors; the card goes beside)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dim", type=int, default=96)
    p.add_argument("--batch", type=int, default=16, help="frames per step")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--holdout", type=float, default=0.0, help="share of frames held out for the curve")
    p.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a shared machine)")
    p.add_argument("--blind", action="store_true", help="the text-only twin (image zeroed)")
    p.add_argument("--figure", type=Path, default=None, help="PNG of the training curve")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        data = load_data(a.data)
        log.info("data: %d clean frames, %d items, hash %s", len(data.images), len(data.items), data.hash()[:12])
        card = train(data, a.out, epochs=a.epochs, seed=a.seed, dim=a.dim, batch=a.batch, lr=a.lr, image=not a.blind,
                     holdout=a.holdout, threads=a.threads, figure=a.figure,
                     command="python -m robostress.models.reader_train " + " ".join(argv if argv is not None else sys.argv[1:]))
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    log.info("wrote %s (%d parameters, %d steps)", a.out, card["parameters"], card["steps"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
