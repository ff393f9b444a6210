"""Read a dataset in RoboStressBench's documented layout as robostress Items.

The layout (one folder; every path is relative to it and must stay inside it):

* ``manifest.jsonl``: one JSON object per sample with ``sample_id``, ``dataset``,
  ``subcategory``, ``task``, ``gt_type`` (``mcq``, ``bbox`` or ``mask``), ``stress_tags``
  (a list such as ``["V__truncated_out_of_frame"]``; empty for a clean sample),
  ``record_relpath``, ``rgb_relpath`` and ``mask_relpath`` (``null`` unless ``gt_type`` is mask).
* a record (JSON object) per sample: ``question``; for ``mcq`` ``options`` (2-8 texts) and
  ``answer_index``; for ``bbox`` the truth box ``xyxy`` in permille (``bbox`` is read as an alias).
* the RGB image, and for ``mask`` samples a mask image (a pixel > 0 is inside).
* optionally ``dataset_info.json`` with ``dataset_version`` (written into ``submission.json``).

Each sample becomes one Item that every robostress backend can answer: ``mcq`` -> format ``mc``
(lettered options, the answer letter), ``bbox`` -> ``box`` (truth box), ``mask`` -> ``point``
(truth mask, and the mask pixel deepest inside as the oracle's point). A stress tag
``P__name`` has dimension ``DIMENSIONS[P]`` and sub-type ``name``; the Item carries the first
tag (severity 1; 0 and ``none`` when untagged), and ``truth['stress_tags']`` all of them.

The files are untrusted: sizes are bounded, paths are kept inside the folder, and every bad file
gives one DataError naming the file and the problem.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np
from PIL import Image

from robostress.benchmark.load import Benchmark
from robostress.benchmark.manifest import loads_strict
from robostress.errors import DataError
from robostress.questions.item import LETTERS, Ability, Format, Item
from robostress.questions.templates import PROMPT_VERSION, box_prompt, mc_prompt, point_prompt
from robostress.render.io import safe_join

RSB_PROMPT_VERSION = f"rsb1-{PROMPT_VERSION}"  # robostress's answer instructions follow its templates
RSB_SCORER_VERSION = "rsb-s1"  # bump when a RoboStressBench scoring rule changes results
GT_TYPES = {"mcq": "mc", "bbox": "box", "mask": "point"}
DIMENSIONS = {"V": "viewpoint", "L": "lighting", "M": "material", "G": "geometry"}
MAX_MANIFEST_BYTES = 64 << 20
MAX_SAMPLES = 200_000
MAX_RECORD_BYTES = 1 << 20
MAX_IMAGE_BYTES = 64 << 20
MAX_PIXELS = 8192 * 8192
MAX_TEXT = 4000  # characters of a question, an option, an id or a tag
MANIFEST_KEYS = ("sample_id", "dataset", "subcategory", "task", "gt_type", "stress_tags",
                 "record_relpath", "rgb_relpath", "mask_relpath")
_ABILITY_WORDS = (("plan", "planning"), ("spatial", "spatial"), ("relation", "spatial"),
                  ("state", "state"), ("place", "placement_grounding"), ("afford", "placement_grounding"))


@dataclass(frozen=True)
class Sample:
    """One manifest row of a RoboStressBench dataset."""

    sample_id: str
    dataset: str
    subcategory: str
    task: str
    gt_type: str
    stress_tags: tuple[str, ...]
    record_relpath: str
    rgb_relpath: str
    mask_relpath: str | None


def tag_dimension(tag: str) -> tuple[str, str]:
    """(dimension, sub-type) of a stress tag: ``V__small_scale`` -> (viewpoint, small_scale).

    A prefix outside ``DIMENSIONS`` names its own dimension; a tag without ``__`` is ``other``.
    """
    prefix, sep, name = tag.partition("__")
    if not sep:
        return "other", tag
    return DIMENSIONS.get(prefix, prefix), name


def _text(where: str, row: dict[str, Any], key: str, *, optional: bool = False) -> str | None:
    v = row.get(key)
    if v is None and optional:
        return None
    if not isinstance(v, str) or not v or len(v) > MAX_TEXT:
        raise DataError(f"{where}: {key} must be a non-empty string of at most {MAX_TEXT} characters, got {str(v)[:60]!r}")
    return v


def _read_json(path: Path, limit: int, digest: Any = None) -> Any:
    """A JSON file of at most ``limit`` bytes (its bytes also go into ``digest``, a hashlib object)."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise DataError(f"{path}: {size} bytes is over the limit of {limit}")
        data = path.read_bytes()
        if digest is not None:
            digest.update(len(data).to_bytes(8, "big") + data)
        return loads_strict(data)
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror}") from None
    except (ValueError, RecursionError) as e:
        raise DataError(f"{path}: not valid JSON ({str(e)[:120]})") from None


def _inside(root: Path, where: str, rel: str) -> Path:
    try:
        p = safe_join(root, rel)
    except DataError:
        raise DataError(f"{where}: path {rel!r} leaves the dataset folder") from None
    if not p.is_file():
        raise DataError(f"{where}: {rel} is missing")
    return p


def _image_size(path: Path, where: str) -> tuple[int, int]:
    """(width, height) read from the header only; DataError for a non-image or an oversized one."""
    if path.stat().st_size > MAX_IMAGE_BYTES:
        raise DataError(f"{where}: {path.name} is over {MAX_IMAGE_BYTES} bytes")
    try:
        with Image.open(path) as im:
            w, h = im.size
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise DataError(f"{where}: {path.name} is not a readable image ({str(e)[:80]})") from None
    if w * h > MAX_PIXELS or w < 1 or h < 1:
        raise DataError(f"{where}: {path.name} is {w}x{h} pixels, over the limit of {MAX_PIXELS}")
    return w, h


def read_mask(path: Path) -> np.ndarray:
    """A mask image as a boolean H x W array: a pixel is inside where any channel is > 0."""
    a = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if a is None or a.size == 0:
        raise DataError(f"cannot read mask {path}")
    return np.asarray((a > 0).any(axis=2) if a.ndim == 3 else a > 0)


def oracle_point(mask: np.ndarray) -> list[float] | None:
    """Permille point of the mask pixel farthest from the mask's border (first in row order on a tie).

    It is chosen so that RoboStressBench's rule (``round(x * (w - 1))``) lands back on that pixel;
    None for an empty mask.
    """
    if not mask.any():
        return None
    dist = cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(dist)), mask.shape)
    h, w = mask.shape
    return [round(1000.0 * int(x) / max(w - 1, 1), 3), round(1000.0 * int(y) / max(h - 1, 1), 3)]


def parse_row(where: str, row: Any) -> Sample:
    """One manifest row; DataError naming the row and the problem."""
    if not isinstance(row, dict):
        raise DataError(f"{where}: a row must be a JSON object")
    missing = [k for k in MANIFEST_KEYS if k not in row and k != "mask_relpath"]
    if missing:
        raise DataError(f"{where}: missing key(s) {', '.join(missing)}")
    gt = row["gt_type"]
    if gt not in GT_TYPES:
        raise DataError(f"{where}: gt_type {str(gt)[:40]!r} is not one of {', '.join(GT_TYPES)}")
    tags = row["stress_tags"]
    if not isinstance(tags, list) or len(tags) > 64 or not all(isinstance(t, str) and 0 < len(t) <= 200 for t in tags):
        raise DataError(f"{where}: stress_tags must be a list of at most 64 short strings")
    vals = {k: _text(where, row, k) for k in MANIFEST_KEYS[:5] + MANIFEST_KEYS[6:8]}
    mask_rel = _text(where, row, "mask_relpath", optional=gt != "mask")
    return Sample(stress_tags=tuple(tags), mask_relpath=mask_rel, **vals)  # type: ignore[arg-type]


def read_manifest_rows(root: Path) -> tuple[list[Sample], str]:
    """The samples of ``root/manifest.jsonl`` and the file's sha256 (the dataset's identity)."""
    path = root / "manifest.jsonl"
    if not path.is_file():
        raise DataError(f"{root} is not a RoboStressBench dataset folder (manifest.jsonl is missing)")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise DataError(f"{path}: over the limit of {MAX_MANIFEST_BYTES} bytes")
    data = path.read_bytes()
    samples: list[Sample] = []
    seen: set[str] = set()
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = loads_strict(line)
        except (ValueError, RecursionError) as e:
            raise DataError(f"{path}:{n}: not valid JSON ({str(e)[:80]})") from None
        s = parse_row(f"{path}:{n}", row)
        if s.sample_id in seen:
            raise DataError(f"{path}:{n}: sample_id {s.sample_id!r} appears twice")
        seen.add(s.sample_id)
        samples.append(s)
        if len(samples) > MAX_SAMPLES:
            raise DataError(f"{path}: more than {MAX_SAMPLES} samples")
    if not samples:
        raise DataError(f"{path}: no samples")
    return samples, hashlib.sha256(data).hexdigest()


def _ability(sample: Sample, fmt: str) -> Ability:
    """The robostress ability of a sample, guessed from its task name (the report groups by task too)."""
    if fmt == "box":
        return "target_grounding"
    task = sample.task.lower()
    found = next((a for word, a in _ABILITY_WORDS if word in task), None)
    if fmt == "point":
        return "placement_grounding" if found == "placement_grounding" else "target_grounding"
    return cast(Ability, found) if found and found != "placement_grounding" else "recognition"


def _truth_box(where: str, rec: dict[str, Any]) -> list[float]:
    box = rec.get("xyxy", rec.get("bbox"))
    if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                            for v in box)):
        raise DataError(f"{where}: xyxy must be a list of 4 numbers (permille), got {str(box)[:60]}")
    return [float(v) for v in box]


def to_item(root: Path, s: Sample, digest: Any = None) -> Item:
    """The robostress Item of one sample (reads and checks its record, image and mask; the record's
    bytes go into ``digest`` if given)."""
    where = f"sample {s.sample_id}"
    rec = _read_json(_inside(root, where, s.record_relpath), MAX_RECORD_BYTES, digest)
    where = f"{root / s.record_relpath}"
    if not isinstance(rec, dict):
        raise DataError(f"{where}: the record must be a JSON object")
    question = _text(where, rec, "question")
    assert question is not None
    _image_size(_inside(root, f"sample {s.sample_id}", s.rgb_relpath), f"sample {s.sample_id}")
    fmt = cast(Format, GT_TYPES[s.gt_type])
    dim, sub = tag_dimension(s.stress_tags[0]) if s.stress_tags else ("none", "none")
    truth: dict[str, Any] = {"stress_tags": list(s.stress_tags), "dataset": s.dataset, "task": s.task,
                             "subcategory": s.subcategory, "gt_type": s.gt_type}
    options: tuple[str, ...] = ()
    answer = None
    if fmt == "mc":
        opts, idx = rec.get("options"), rec.get("answer_index")
        if not (isinstance(opts, list) and 2 <= len(opts) <= len(LETTERS)
                and all(isinstance(o, str) and 0 < len(o) <= MAX_TEXT for o in opts)):
            raise DataError(f"{where}: options must be a list of 2 to {len(LETTERS)} non-empty strings")
        if type(idx) is not int or not 0 <= idx < len(opts):
            raise DataError(f"{where}: answer_index {str(idx)[:20]} is not an index of its {len(opts)} options")
        options, answer = tuple(opts), LETTERS[idx]
        prompt = mc_prompt(question, options)
    elif fmt == "box":
        truth["box"] = _truth_box(where, rec)
        prompt = box_prompt(question)
    else:
        assert s.mask_relpath is not None
        mpath = _inside(root, f"sample {s.sample_id}", s.mask_relpath)
        _image_size(mpath, f"sample {s.sample_id}")
        truth.update(mask=s.mask_relpath, instances=[1], point=oracle_point(read_mask(mpath)))
        prompt = point_prompt(question)
    return Item(item_id=s.sample_id, key=s.task, frame_id=s.sample_id, scene_id=s.sample_id,
                clean_item_id=s.sample_id, image=s.rgb_relpath, dimension=dim, subtype=sub,
                severity=1 if s.stress_tags else 0, ability=_ability(s, fmt), qtype=s.task if fmt == "mc" else fmt,
                format=fmt, question=question, prompt=prompt, options=options, answer=answer,
                truth=truth, prompt_version=RSB_PROMPT_VERSION)


class RsbDataset(Benchmark):
    """A RoboStressBench dataset folder, read as a Benchmark so that the runner can evaluate it.

    ``content_hash`` is the sha256 of ``manifest.jsonl`` and every record, with the scorer and
    prompt versions, so a run refuses to resume on changed questions or truths; images and masks are
    identified by their paths only (RoboStressBench ships no per-file hashes).
    """

    def __init__(self, root: Path | str, dataset_version: str | None = None) -> None:  # noqa: D107
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise DataError(f"dataset_dir {root} is not a folder")
        self.samples, digest = read_manifest_rows(self.root)
        info_path = self.root / "dataset_info.json"
        info = _read_json(info_path, MAX_RECORD_BYTES) if info_path.is_file() else {}
        version = dataset_version or (info.get("dataset_version") if isinstance(info, dict) else None)
        if version is not None and (not isinstance(version, str) or not 0 < len(version) <= 200):
            raise DataError(f"{info_path}: dataset_version must be a short string")
        self.dataset_version: str = version or f"manifest-sha256:{digest[:16]}"
        h = hashlib.sha256(digest.encode())
        self.items = [to_item(self.root, s, h) for s in self.samples]  # type: ignore[misc]
        self.manifest = {"name": re.sub(r"[^A-Za-z0-9._-]", "_", self.root.name)[:100] or "rsb",
                         "content_hash": f"{RSB_SCORER_VERSION}-{RSB_PROMPT_VERSION}-{h.hexdigest()}"}
        self.by_id = {s.sample_id: s for s in self.samples}

    def mask(self, rel: str) -> np.ndarray:
        """A mask of the dataset as uint16 0/1 (1 inside), as robostress's point scorer reads it."""
        return read_mask(self.path(rel)).astype(np.uint16)


def dump_manifest_row(s: Sample) -> str:
    """One ``manifest.jsonl`` line of a sample (used by tests and tools that write datasets)."""
    row = {k: getattr(s, k) for k in MANIFEST_KEYS}
    row["stress_tags"] = list(s.stress_tags)
    return json.dumps(row, sort_keys=True)
