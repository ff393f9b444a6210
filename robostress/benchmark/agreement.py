"""Whether two builds are the same benchmark, and how closely their pixels agree.

A rebuild on another machine must ask the same questions with the same answers about the same
scenes: plans, items, truth and masks are compared exactly (the manifest's ``identity`` covers
them). Its pixels may differ by render noise: Dr.Jit generates code for the host's vector width,
and another variant or Mitsuba version draws other samples. Images are compared frame by frame
(max and mean absolute difference in 8-bit levels, PSNR), so that the noise is measured, not
assumed (docs/integrity.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from robostress.benchmark.load import Benchmark
from robostress.benchmark.manifest import exact_frame, identity_hash


@dataclass(frozen=True)
class FrameAgreement:
    """Pixel agreement of one frame's image between two builds (8-bit sRGB levels)."""

    frame_id: str
    max_abs: int
    mean_abs: float
    psnr: float  # dB; inf where the images are identical
    depth_max_mm: int = 0  # largest depth difference (the depth files hold millimetres)


@dataclass
class Agreement:
    """What ``compare_builds`` found: exact parts (equal or not, with the first differences) and
    per-frame pixel agreement."""

    a: Path
    b: Path
    identity_a: str
    identity_b: str
    exact: dict[str, bool] = field(default_factory=dict)  # part -> equal (scenes, items, truth, masks, ...)
    differences: list[str] = field(default_factory=list)  # the first few, one line each
    frames: list[FrameAgreement] = field(default_factory=list)
    content_equal: bool = False

    @property
    def same_benchmark(self) -> bool:
        """Whether every exact part agrees (the identities are then equal)."""
        return self.identity_a == self.identity_b and all(self.exact.values())

    def summary(self) -> dict[str, float | int]:
        """Frames compared, identical, and the worst and mean agreement over them."""
        f = self.frames
        if not f:
            return {"frames": 0}
        return {"frames": len(f), "identical": sum(x.max_abs == 0 for x in f),
                "max_abs": max(x.max_abs for x in f), "mean_abs": float(np.mean([x.mean_abs for x in f])),
                "min_psnr": min(x.psnr for x in f),
                "depth_max_mm": max(x.depth_max_mm for x in f)}

    def lines(self) -> list[str]:
        """The report, one finding a line."""
        out = [f"identity: {self.identity_a[:12]} vs {self.identity_b[:12]} "
               f"({'the same benchmark' if self.same_benchmark else 'DIFFERENT benchmarks'})"]
        out += [f"{part}: {'equal' if ok else 'DIFFER'}" for part, ok in self.exact.items()]
        out += [f"  {d}" for d in self.differences]
        s = self.summary()
        if s["frames"]:
            out.append(f"images: {s['identical']} of {s['frames']} frames identical; max |a-b| {s['max_abs']} "
                       f"levels, mean |a-b| {s['mean_abs']:.4f} levels, worst PSNR {_db(float(s['min_psnr']))}; "
                       f"depth: max |a-b| {s['depth_max_mm']} mm")
            worst = sorted(self.frames, key=lambda x: (-x.max_abs, -x.mean_abs))[:3]
            out += [f"  {w.frame_id}: max {w.max_abs}, mean {w.mean_abs:.4f}, PSNR {_db(w.psnr)}"
                    for w in worst if w.max_abs]
        out.append(f"content hash (pixels too): {'equal' if self.content_equal else 'differs (render noise)'}")
        return out


def _db(x: float) -> str:
    return "inf (identical)" if math.isinf(x) else f"{x:.1f} dB"


def frame_agreement(fid: str, a: np.ndarray, b: np.ndarray) -> FrameAgreement:
    """Max and mean absolute difference and PSNR of two 8-bit images of one frame."""
    if a.shape != b.shape:
        return FrameAgreement(fid, 255, 255.0, 0.0)
    d = np.abs(a.astype(np.int16) - b.astype(np.int16))
    mse = float((d.astype(np.float64) ** 2).mean())
    return FrameAgreement(fid, int(d.max()), round(float(d.mean()), 6),
                          math.inf if mse == 0 else round(10 * math.log10(255.0 ** 2 / mse), 3))


def _diff(name: str, a: dict[str, object], b: dict[str, object], out: list[str], limit: int = 5) -> bool:
    """Compare two keyed collections; note the first differences in ``out``."""
    same = True
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            same = False
            if len(out) < limit:
                what = "only in A" if k not in b else "only in B" if k not in a else "differs"
                out.append(f"{name} {k}: {what}")
    return same


def compare_builds(a: Benchmark, b: Benchmark, images: bool = True) -> Agreement:
    """Compare benchmark ``a`` with ``b`` (see the module docstring)."""
    fa, fb = a.frames, b.frames
    res = Agreement(a.root, b.root, a.identity or identity_hash(a.root, list(fa.values())),
                    b.identity or identity_hash(b.root, list(fb.values())),
                    content_equal=a.content_hash == b.content_hash)
    scenes = _diff("scene", {k: v.model_dump(mode="json") for k, v in a.scenes.items()},
                   {k: v.model_dump(mode="json") for k, v in b.scenes.items()}, res.differences)
    items = _diff("item", {i.item_id: i.model_dump(mode="json") for i in a.items},
                  {i.item_id: i.model_dump(mode="json") for i in b.items}, res.differences)
    ea = {k: exact_frame(f) for k, f in fa.items()}
    eb = {k: exact_frame(f) for k, f in fb.items()}
    masks = _diff("masks of frame", {k: v.pop("exact_hashes") for k, v in ea.items()},
                  {k: v.pop("exact_hashes") for k, v in eb.items()}, res.differences)
    truth = _diff("truth of frame", ea, eb, res.differences)
    res.exact = {"scenes (plans)": scenes, "items (questions and answers)": items,
                 "frames (truth: objects, boxes, visibility)": truth, "masks (ids, free space)": masks}
    if images:
        for fid in sorted(set(fa) & set(fb)):
            agree = frame_agreement(fid, a.image(fa[fid].image), b.image(fb[fid].image))
            da, db = a.mask(fa[fid].depth).astype(np.int64), b.mask(fb[fid].depth).astype(np.int64)
            mm = int(np.abs(da - db).max()) if da.shape == db.shape else 65535
            res.frames.append(FrameAgreement(agree.frame_id, agree.max_abs, agree.mean_abs, agree.psnr, mm))
    return res
