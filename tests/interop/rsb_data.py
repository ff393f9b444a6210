"""Build small datasets in RoboStressBench's documented layout (docs/dataset_format.md of
YUEVII/RoboStressBench): manifest.jsonl, ``<dataset>/<subcategory>/records/<id>.json`` with
everything under ``annotation``, ``media/rgb`` images and ``media/gt_mask`` masks (PNG or JPEG)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

W, H = 11, 9  # mask pixel x = round(x * 10): one pixel every 100 permille across


def image(path: Path, w: int = 64, h: int = 48) -> None:
    """A grey table with a blue block."""
    img = np.full((h, w, 3), 128, np.uint8)
    img[h // 4: h // 2, w // 4: w // 2] = (200, 40, 40)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)


def block_mask(cols: tuple[int, int], rows: tuple[int, int], w: int = W, h: int = H) -> np.ndarray:
    """255 inside columns cols[0]..cols[1] and rows rows[0]..rows[1] (inclusive), else 0."""
    m = np.zeros((h, w), np.uint8)
    m[rows[0]: rows[1] + 1, cols[0]: cols[1] + 1] = 255
    return m


def mcq(sid: str, stress: Any, answer: int = 0, task: str = "recognition_mcq",
        options: tuple[str, ...] = ("red", "green", "blue", "yellow"), dataset: str = "01") -> dict[str, Any]:
    return {"sample_id": sid, "dataset": dataset, "task": task, "gt_type": "mcq", "stress": stress,
            "instruction": f"[{sid}] What colour is the block?",
            "gt": {"type": "mcq", "mcq": {"options": list(options), "answer_index": answer}}}


def bbox(sid: str, stress: Any, box: list[float], dataset: str = "02") -> dict[str, Any]:
    return {"sample_id": sid, "dataset": dataset, "task": "grounding_bbox", "gt_type": "bbox", "stress": stress,
            "instruction": f"[{sid}] Give the box of the block as [x1, y1, x2, y2] in permille.",
            "gt": {"type": "bbox", "bbox": {"format": "xyxy", "space": "permille", "box": box}}}


def pointing(sid: str, stress: Any, mask: np.ndarray, ext: str = "png", dataset: str = "03") -> dict[str, Any]:
    return {"sample_id": sid, "dataset": dataset, "task": "pointing_mask", "gt_type": "mask", "stress": stress,
            "instruction": f"[{sid}] Point to the block as (x, y) in permille.", "mask_array": mask, "ext": ext}


def write(root: Path, samples: list[dict[str, Any]], metadata: bool = True) -> Path:
    """Write ``samples`` under ``root`` in RoboStressBench's layout (images once per dataset)."""
    root.mkdir(parents=True, exist_ok=True)
    rows, meta = [], []
    for s in samples:
        s = dict(s)
        sid, ds, sub = s["sample_id"], s["dataset"], s.get("subcategory", "01")
        base = f"{ds}/{sub}"
        rgb = s.get("rgb", f"{base}/media/rgb/000001_rgb.jpg")
        if not (root / rgb).exists() and ".." not in rgb and not rgb.startswith("/"):
            image(root / rgb)
        gt = s.get("gt")
        mask_rel = None
        if "mask_array" in s:
            mask_rel = f"{base}/media/gt_mask/{sid}_mask.{s['ext']}"
            (root / mask_rel).parent.mkdir(parents=True, exist_ok=True)
            m = s["mask_array"]
            im = Image.fromarray(m)
            if s["ext"] == "jpg":
                im.save(root / mask_rel, quality=90)
            else:
                im.save(root / mask_rel)
            gt = {"type": "mask", "mask": {"path": mask_rel, "encoding": f"{s['ext']}/thresholded_mask"}}
        stress = s["stress"]
        tags = [f"{k}__{v}" for k, vals in stress.items() for v in vals] if isinstance(stress, dict) else []
        rec_rel = s.get("record_relpath", f"{base}/records/{sid}.json")
        annotation = {"sample_id": sid, "task": s["task"], "stress": stress, "instruction": s["instruction"],
                      "rgb": rgb, "gt": gt}
        annotation.update(s.get("annotation_extra", {}))
        record = s.get("record", {"sample_id": sid, "status": "annotated", "annotation": annotation})
        if ".." not in rec_rel and not rec_rel.startswith("/"):
            (root / rec_rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rec_rel).write_text(json.dumps(record))
        rows.append({"sample_id": sid, "dataset": ds, "subcategory": sub, "task": s["task"], "gt_type": s["gt_type"],
                     "stress_tags": tags, "record_relpath": rec_rel, "rgb_relpath": rgb, "mask_relpath": mask_rel})
        meta.append({"sample_id": sid, "instruction": s["instruction"], "stress_tags": tags})
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if metadata:
        (root / "metadata.jsonl").write_text("".join(json.dumps(r) + "\n" for r in meta))
    return root


SQUARE = block_mask((3, 6), (2, 5))  # columns 3..6, rows 2..5 of an 11 x 9 mask
# The hand-made dataset: every gt type, clean and stressed, several tags, a duplicate tag, a
# non-canonical tag, an unknown letter and an empty list.
HAND = [
    mcq("mc_clean", {}, answer=0),
    mcq("mc_trunc", {"V": ["truncated_out_of_frame"]}, answer=2),
    mcq("mc_two", {"L": ["global_underexposure"], "M": ["dark_absorptive"]}, answer=1),
    bbox("box_exact95", {"G": ["occlusion"]}, [0, 0, 1000, 1000]),
    bbox("box_below95", {"G": ["occlusion", "occlusion"]}, [100, 200, 500, 600]),
    bbox("box_half", {"V": ["small_scale", "tiny_text"], "L": []}, [100, 200, 500, 600]),
    pointing("pt_border", {"V": ["small_scale"], "X": ["foo"]}, SQUARE),
    pointing("pt_outside", {"G": ["non_rigid_deform"]}, SQUARE),
    pointing("pt_half_even", None, SQUARE),
]
# Scripted replies of the hand-made cases and whether RoboStressBench counts them correct.
SCRIPT = {
    "mc_clean": ("A", True),
    "mc_trunc": ("The answer is B", False),           # single standalone letter: B
    "mc_two": ("Option 2", True),                     # 1-based number: B
    "box_exact95": ("[25, 0, 975, 1000]", True),      # IoU exactly 0.95 in float64
    "box_below95": ("[101, 200, 520, 600]", False),   # 19/20 exactly, 0.9499999999999998 in float64
    "box_half": ("(500, 600, 100, 400)", False),      # swapped corners: IoU 0.5
    "pt_border": ("(300, 500)", True),                # x -> round(3.0) = 3: the mask's left column
    "pt_outside": ("[249, 500]", False),              # round(2.49) = 2: one column left of the mask
    "pt_half_even": ("x=250, y=500", False),          # round(2.5) = 2 (halves to even): outside
}
