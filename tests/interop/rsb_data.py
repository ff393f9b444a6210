"""Build small datasets in RoboStressBench's layout (real PNG images and masks, JSON records)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

W, H = 11, 9  # mask pixel x = round(x * 10): one pixel every 100 permille across


def image(path: Path, colour: tuple[int, int, int] = (40, 40, 200), w: int = 64, h: int = 48) -> None:
    """A grey table with a coloured block (BGR for cv2)."""
    img = np.full((h, w, 3), 128, np.uint8)
    img[h // 4: h // 2, w // 4: w // 2] = colour
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), img)


def mask(path: Path, cols: tuple[int, int], rows: tuple[int, int], w: int = W, h: int = H) -> None:
    """An 8-bit mask, 255 inside columns cols[0]..cols[1] and rows rows[0]..rows[1] (inclusive)."""
    m = np.zeros((h, w), np.uint8)
    m[rows[0]: rows[1] + 1, cols[0]: cols[1] + 1] = 255
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), m)


def write(root: Path, samples: list[dict[str, Any]], version: str | None = "rsb-test-1") -> Path:
    """Write ``samples`` (manifest keys plus ``record``: the record's JSON, and for mask samples
    ``mask``: (cols, rows)) under ``root``; images are written once per rgb path."""
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for s in samples:
        s = dict(s)
        rec, m = s.pop("record"), s.pop("mask", None)
        s.setdefault("record_relpath", f"records/{s['sample_id']}.json")
        s.setdefault("rgb_relpath", "images/scene0.png")
        s.setdefault("mask_relpath", f"masks/{s['sample_id']}.png" if s["gt_type"] == "mask" else None)
        s.setdefault("dataset", "synthetic")
        s.setdefault("subcategory", "tabletop")
        (root / s["record_relpath"]).parent.mkdir(parents=True, exist_ok=True)
        (root / s["record_relpath"]).write_text(json.dumps(rec))
        if not (root / s["rgb_relpath"]).exists():
            image(root / s["rgb_relpath"])
        if m is not None and s["mask_relpath"]:
            mask(root / s["mask_relpath"], *m)
        rows.append(json.dumps(s))
    (root / "manifest.jsonl").write_text("\n".join(rows) + "\n")
    if version:
        (root / "dataset_info.json").write_text(json.dumps({"dataset_version": version}))
    return root


def mcq(sid: str, tags: list[str], answer: int = 0, task: str = "recognition",
        options: tuple[str, ...] = ("red", "green", "blue", "yellow")) -> dict[str, Any]:
    return {"sample_id": sid, "task": task, "gt_type": "mcq", "stress_tags": tags,
            "record": {"question": f"[{sid}] What colour is the block?", "options": list(options),
                       "answer_index": answer}}


def bbox(sid: str, tags: list[str], xyxy: list[float]) -> dict[str, Any]:
    return {"sample_id": sid, "task": "grounding", "gt_type": "bbox", "stress_tags": tags,
            "record": {"question": f"[{sid}] Give the box of the block.", "xyxy": xyxy}}


def pointing(sid: str, tags: list[str], cols: tuple[int, int], rows: tuple[int, int]) -> dict[str, Any]:
    return {"sample_id": sid, "task": "pointing", "gt_type": "mask", "stress_tags": tags,
            "record": {"question": f"[{sid}] Point to the block."}, "mask": (cols, rows)}


# The hand-made dataset: every gt_type, clean and stressed, one sample with two tags of two dimensions.
HAND = [
    mcq("mc_clean", [], answer=0),
    mcq("mc_trunc", ["V__truncated_out_of_frame"], answer=2),
    mcq("mc_two", ["L__global_underexposure", "M__dark_absorptive"], answer=1, task="spatial_relation"),
    bbox("box_exact95", ["G__occlusion"], [0, 0, 280, 100]),
    bbox("box_below95", ["G__occlusion"], [0, 0, 280, 100]),
    bbox("box_half", ["V__small_scale"], [100, 200, 500, 600]),
    pointing("pt_border", ["V__small_scale"], (3, 6), (2, 5)),
    pointing("pt_outside", ["V__small_scale"], (3, 6), (2, 5)),
    pointing("pt_half_even", [], (3, 6), (2, 5)),
]
# Scripted replies of the hand-made cases and how RoboStressBench scores them.
SCRIPT = {
    "mc_clean": ("A", True), "mc_trunc": ("B", False), "mc_two": ("B", True),
    "box_exact95": ("[0, 0, 266, 100]", True),      # IoU exactly 0.95 (float arithmetic: 0.9499999999999998)
    "box_below95": ("[0, 0, 265, 100]", False),     # IoU 0.946: @0.5 but not correct
    "box_half": ("[100, 200, 500, 400]", False),    # IoU 0.5 exactly: counts for @0.5
    "pt_border": ("[300, 500]", True),              # x -> round(3.0) = 3: the mask's left border column
    "pt_outside": ("[249, 500]", False),            # round(2.49) = 2: one column left of the mask
    "pt_half_even": ("[250, 500]", False),          # round(2.5) = 2 (halves to even): outside
}
