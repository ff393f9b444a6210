"""Write a built robostress benchmark as a dataset in RoboStressBench's layout, so that its users
can run the physically rendered set in their own harness (``robostress export format=rsb``).

Layout written (RoboStressBench's ``docs/dataset_format.md``)::

    manifest.jsonl                         one row per item: sample_id, dataset, subcategory, task,
                                           gt_type, stress_tags, record_relpath, rgb_relpath, mask_relpath
    metadata.jsonl                         flattened convenience rows (robostress ids, stress, severity)
    01/01/records/<sample_id>.json         {"sample_id", "status", "annotation": {...}, "robostress": {...}}
    01/01/media/rgb/<frame>_rgb.png        each frame's image once (the benchmark's PNG, byte for byte)
    01/01/media/gt_mask/<sample_id>_mask.png   point items: 255 where the point counts, else 0

Per item: ``mc`` -> ``gt.type=mcq`` (options, answer index; the instruction is the question, to
which RoboStressBench adds the lettered options and its answer footer); ``box`` -> ``bbox``
(``xyxy`` in permille, the truth box); ``point`` -> ``mask`` (a binary mask of the pixels whose
instance id is one of the truth's). Box and point instructions are robostress's full prompts,
which state the permille answer format (RoboStressBench sends them bare). A stressed item gets
one stress tag, its sub-type mapped by ``rsb_taxonomy.ROBOSTRESS_TO_RSB`` (a compound item two, one
per factor, and its single-factor twins' ids in the ``robostress`` block); clean items have
``stress: {}`` and no ``stress_tags``. Sample ids are ``000001``... in item order; the record's
``robostress`` block (ignored by RoboStressBench's loader) keeps the item's own ids.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from robostress.benchmark.load import Benchmark
from robostress.benchmark.verify import require_whole
from robostress.core.records import COMPOUND_JOIN
from robostress.errors import ConfigError, DataError
from robostress.interop.rsb_taxonomy import to_rsb
from robostress.questions.item import LETTERS, Item
from robostress.scoring.score import truth_mask

GT_OF_FORMAT = {"mc": "mcq", "box": "bbox", "point": "mask"}
DATASET, SUBCATEGORY = "01", "01"
MASK_FORMATS = {"png": ("png", "png/binary_mask"), "jpg": ("jpg", "jpg/thresholded_mask")}


def binary_mask(bench: Benchmark, item: Item) -> np.ndarray:
    """255 where a point at that pixel counts for ``item`` (its instance ids, inside its placement
    region if it has one), else 0 (uint8)."""
    m = truth_mask(item, bench.mask)
    return np.where(np.isin(m, [int(i) for i in item.truth["instances"]]), 255, 0).astype(np.uint8)


def _stress(item: Item) -> tuple[dict[str, list[str]], list[str]]:
    """RoboStressBench's stress block and tags of an item: one per factor (a compound item, whose
    labels join its two factors with '+', gets both, as RoboStressBench's multi-tag samples do)."""
    if item.dimension == "none" or item.severity == 0:
        return {}, []
    stress: dict[str, list[str]] = {}
    tags = []
    for dim, sub in zip(item.dimension.split(COMPOUND_JOIN), item.subtype.split(COMPOUND_JOIN), strict=True):
        try:
            letter, name = to_rsb(dim, sub)
        except KeyError:
            raise DataError(f"item {item.item_id}: stress {dim}/{sub} has no RoboStressBench "
                            "name (rsb_taxonomy.RSB_TO_ROBOSTRESS)") from None
        stress.setdefault(letter, []).append(name)
        tags.append(f"{letter}__{name}")
    return stress, tags


def _gt(item: Item, mask_rel: str | None, encoding: str) -> dict[str, Any]:
    if item.format == "mc":
        if item.answer is None or item.answer not in LETTERS[:len(item.options)]:
            raise DataError(f"item {item.item_id}: answer {item.answer!r} is not one of its option letters")
        return {"type": "mcq", "mcq": {"options": list(item.options), "answer_index": LETTERS.index(item.answer)}}
    if item.format == "box":
        return {"type": "bbox", "bbox": {"format": "xyxy", "space": "permille",
                                         "box": [float(v) for v in item.truth["box"]]}}
    return {"type": "mask", "mask": {"path": mask_rel, "encoding": encoding}}


def export_rsb(bench_dir: Path, out_dir: Path, *, mask_format: str = "png",
               verify_cache: Path | None = None) -> dict[str, Any]:
    """Export the (verified) benchmark at ``bench_dir`` into the new folder ``out_dir`` in
    RoboStressBench's layout; returns counts (samples per gt type, stressed, clean, frames)."""
    if mask_format not in MASK_FORMATS:
        raise ConfigError(f"mask_format={mask_format!r} is not one of {', '.join(MASK_FORMATS)}")
    ext, encoding = MASK_FORMATS[mask_format]
    bench = Benchmark(bench_dir)
    require_whole(bench, verify_cache)
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"out_dir={out} is not empty: give a new folder for the export")
    base = f"{DATASET}/{SUBCATEGORY}"
    for sub in ("records", "media/rgb", "media/gt_mask"):
        (out / base / sub).mkdir(parents=True, exist_ok=True)
    images: dict[str, str] = {}
    manifest, metadata = [], []
    counts: dict[str, int] = {"mcq": 0, "bbox": 0, "mask": 0, "stressed": 0, "clean": 0}
    for n, item in enumerate(bench.items, 1):
        sid = f"{n:06d}"
        if item.image not in images:
            rel = f"{base}/media/rgb/{len(images) + 1:06d}_rgb{Path(item.image).suffix or '.png'}"
            shutil.copyfile(bench.path(item.image), out / rel)
            images[item.image] = rel
        rgb = images[item.image]
        gt_type = GT_OF_FORMAT[item.format]
        mask_rel = None
        if gt_type == "mask":
            mask_rel = f"{base}/media/gt_mask/{sid}_mask.{ext}"
            params = [cv2.IMWRITE_JPEG_QUALITY, 100] if ext == "jpg" else []
            if not cv2.imwrite(str(out / mask_rel), binary_mask(bench, item), params):
                raise DataError(f"cannot write {out / mask_rel}")
        stress, tags = _stress(item)
        task = f"{item.ability}_{gt_type}"
        rec_rel = f"{base}/records/{sid}.json"
        record = {"sample_id": sid, "status": "annotated",
                  "annotation": {"sample_id": sid, "task": task, "stress": stress,
                                 "instruction": item.question if item.format == "mc" else item.prompt,
                                 "rgb": rgb, "gt": _gt(item, mask_rel, encoding),
                                 "provenance": {"dataset": DATASET, "subcategory": SUBCATEGORY}},
                  "robostress": {"item_id": item.item_id, "frame_id": item.frame_id, "scene_id": item.scene_id,
                                 "clean_item_id": item.clean_item_id, "key": item.key,
                                 **({"factor_item_ids": list(item.factor_item_ids)} if item.factor_item_ids else {}),
                                 "dimension": item.dimension, "subtype": item.subtype, "severity": item.severity,
                                 "ability": item.ability, "qtype": item.qtype, "format": item.format,
                                 "benchmark": bench.manifest.get("name"), "content_hash": bench.content_hash}}
        (out / rec_rel).write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        manifest.append({"sample_id": sid, "dataset": DATASET, "subcategory": SUBCATEGORY, "task": task,
                         "gt_type": gt_type, "stress_tags": tags, "record_relpath": rec_rel,
                         "rgb_relpath": rgb, "mask_relpath": mask_rel})
        metadata.append({"sample_id": sid, "item_id": item.item_id, "clean_item_id": item.clean_item_id,
                         "gt_type": gt_type, "task": task, "stress_tags": tags, "dimension": item.dimension,
                         "subtype": item.subtype, "severity": item.severity, "rgb_relpath": rgb,
                         "record_relpath": rec_rel})
        counts[gt_type] += 1
        counts["stressed" if tags else "clean"] += 1
    for name, rows in (("manifest.jsonl", manifest), ("metadata.jsonl", metadata)):
        (out / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    counts["frames"] = len(images)
    counts["samples"] = len(manifest)
    logging.getLogger(__name__).info("exported %s (%s) in RoboStressBench's layout: %s", bench.root,
                                     bench.content_hash[:12], counts)
    return counts
