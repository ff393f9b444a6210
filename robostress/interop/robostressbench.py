"""Read a dataset in RoboStressBench's documented layout (``docs/dataset_format.md`` of
YUEVII/RoboStressBench) as robostress Items.

The layout: ``manifest.jsonl`` (one JSON object per line) at the dataset root, and per sample a
record ``<dataset>/<subcategory>/records/<sample_id>.json``, an RGB image and, for mask samples, a
mask image. Every relative path (record, image, mask) is resolved against the manifest's folder.
``metadata.jsonl`` is optional and never read. What is read, exactly as RoboStressBench's loader
reads it:

* manifest row: ``record_relpath`` (required); ``rgb_relpath`` and ``gt_type`` only as fallbacks
  of the record's values; ``sample_id``, ``dataset``, ``subcategory`` and ``task`` win over the
  record's. ``stress_tags`` and ``mask_relpath`` are ignored (the record's values are used).
* record: ``annotation`` (an object) with ``instruction`` (non-empty after strip; stored
  stripped), ``rgb``, ``stress`` (passed through as is), ``gt`` with ``type`` (mcq, bbox, mask)
  and ``mcq: {options, answer_index}``, ``bbox: {format, space, box}`` or ``mask: {path,
  encoding}``; ``task``, ``sample_id``, ``provenance.{dataset, subcategory}`` as fallbacks.
  The top-level ``sample_id`` and ``status`` are ignored.

Stricter than RoboStressBench, because the files are untrusted and robostress keeps ids: paths
must stay inside the folder (no ``..`` out, no absolute path, no symlink out), sizes are bounded,
JSON must not hold NaN, ``provenance`` must be an object when present, sample ids must be unique,
and multiple choice has at most 26 options. Like RoboStressBench, a bad record stops the whole
read: one DataError naming the file and the record.

Each sample becomes one Item: ``mcq`` -> format ``mc`` (answer letter), ``bbox`` -> ``box``,
``mask`` -> ``point``; the prompt is RoboStressBench's (``rsb_scoring.rsb_prompt``). The Item's
dimension / sub-type is the first stress tag (G, M, V, L order) mapped by
``rsb_taxonomy.RSB_TO_ROBOSTRESS`` (severity 1; ``none`` and 0 when untagged).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, cast

import cv2
import numpy as np
from PIL import Image

from robostress.benchmark.load import Benchmark
from robostress.benchmark.manifest import loads_strict
from robostress.errors import DataError
from robostress.interop.rsb_taxonomy import first_tag, to_robostress
from robostress.questions.item import Ability, Format, Item
from robostress.render.io import safe_join

RSB_PROMPT_VERSION = "rsb-prompt1"  # RoboStressBench's prompt (eval/prompting.py at f174306)
RSB_SCORER_VERSION = "rsb-s2"  # bump when a RoboStressBench scoring rule changes results
GT_TYPES = {"mcq": "mc", "bbox": "box", "mask": "point"}
MCQ_FOOTER = "\n\nAnswer with exactly one uppercase letter only. Do not output anything else."
MAX_MANIFEST_BYTES = 64 << 20
MAX_SAMPLES = 200_000
MAX_RECORD_BYTES = 1 << 20
MAX_IMAGE_BYTES = 64 << 20
MAX_PIXELS = 8192 * 8192
MAX_TEXT = 16000  # characters of an instruction, an option or an id
MAX_OPTIONS = 26
_ABILITY_WORDS = (("plan", "planning"), ("spatial", "spatial"), ("relation", "spatial"),
                  ("state", "state"), ("place", "placement_grounding"), ("afford", "placement_grounding"))


@dataclass(frozen=True)
class Sample:
    """One sample as RoboStressBench's loader makes it (``QuestionSample``)."""

    sample_id: str
    dataset: str
    subcategory: str
    task: str
    gt_type: str
    instruction: str
    image_relpath: str
    record_relpath: str
    ground_truth: dict[str, Any]  # the normalized gt: {"type", "mcq"|"bbox"|"mask": {...}}
    stress: Any = None
    options: tuple[str, ...] = ()
    answer_index: int | None = None
    mask_relpath: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # unused keys of the record (e.g. robostress's)


def rsb_prompt(instruction: str, gt_type: str, options: tuple[str, ...] = ()) -> str:
    """RoboStressBench's prompt: the stripped instruction; for mcq with options, then a blank line,
    ``A. opt`` lines (at most 26) and its answer footer."""
    stem = instruction.strip()
    if gt_type != "mcq" or not options:
        return stem
    block = "\n".join(f"{chr(65 + i)}. {o}" for i, o in enumerate(options) if i < 26)
    return f"{stem}\n\n{block}{MCQ_FOOTER}"


def _read_json(path: Path, limit: int, where: str, digest: Any = None) -> Any:
    """A JSON file of at most ``limit`` bytes (its bytes also go into ``digest``, a hashlib object)."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise DataError(f"{where}: {size} bytes is over the limit of {limit}")
        data = path.read_bytes()
    except OSError as e:
        raise DataError(f"{where}: cannot read it ({e.strerror})") from None
    if digest is not None:
        digest.update(len(data).to_bytes(8, "big") + data)
    try:
        return loads_strict(data)
    except (ValueError, RecursionError) as e:
        raise DataError(f"{where}: not valid JSON ({str(e)[:120]})") from None


def resolve(root: Path, rel: Any, where: str, what: str) -> Path:
    """``root / rel`` for a relative path that stays inside ``root`` and names an existing file."""
    if not isinstance(rel, str) or not rel.strip():
        raise DataError(f"{where}: {what} must be a non-empty relative path, got {str(rel)[:60]!r}")
    if len(rel) > 1024 or PurePosixPath(rel).is_absolute() or PureWindowsPath(rel).is_absolute() \
            or ".." in PurePosixPath(rel.replace("\\", "/")).parts:
        raise DataError(f"{where}: {what} {rel[:200]!r} leaves the dataset folder (absolute or '..')")
    try:
        p = safe_join(root, rel)
    except DataError:
        raise DataError(f"{where}: {what} {rel[:200]!r} leaves the dataset folder") from None
    if not p.is_file():
        raise DataError(f"{where}: {what} {rel[:200]} is missing")
    return p


def image_size(path: Path, where: str) -> tuple[int, int]:
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
    """A mask image as RoboStressBench reads it: PIL ``convert("L")`` (ITU-R 601-2 luma; alpha
    dropped) as an H x W uint8 array; a pixel is inside where it is > 0."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("L"))
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise DataError(f"cannot read mask {path}: {str(e)[:80]}") from None


def oracle_point(mask: np.ndarray) -> list[float] | None:
    """Permille point of the inside pixel (> 0) farthest from the mask's border (first in row order
    on a tie), chosen so that RoboStressBench's rule ``round(x * (w - 1))`` lands back on it; None
    for an empty mask."""
    inside = np.asarray(mask) > 0
    if not inside.any():
        return None
    dist = cv2.distanceTransform(np.pad(inside, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(dist)), inside.shape)
    h, w = inside.shape
    return [round(1000.0 * int(x) / max(w - 1, 1), 3), round(1000.0 * int(y) / max(h - 1, 1), 3)]


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float))  # as RoboStressBench: bool passes (a subclass of int)


def _gt(root: Path, where: str, gt: dict[str, Any], gt_type: str) -> tuple[dict[str, Any], tuple[str, ...],
                                                                             int | None, str | None]:
    """(normalized gt, options, answer index, mask relpath) of a record's ``annotation.gt``."""
    if gt_type == "mcq":
        m = gt.get("mcq")
        if not isinstance(m, dict):
            raise DataError(f"{where}: gt.type=mcq but no gt.mcq object")
        opts, idx = m.get("options"), m.get("answer_index")
        if not (isinstance(opts, list) and 0 < len(opts) <= MAX_OPTIONS
                and all(isinstance(o, str) and len(o) <= MAX_TEXT for o in opts)):
            raise DataError(f"{where}: gt.mcq.options must be a list of 1 to {MAX_OPTIONS} strings")
        if not isinstance(idx, int) or not 0 <= idx < len(opts):
            raise DataError(f"{where}: gt.mcq.answer_index {str(idx)[:20]} is not an index of its {len(opts)} options")
        return {"type": "mcq", "mcq": {"options": opts, "answer_index": idx}}, tuple(opts), int(idx), None
    if gt_type == "bbox":
        b = gt.get("bbox")
        if not isinstance(b, dict):
            raise DataError(f"{where}: gt.type=bbox but no gt.bbox object")
        box = b.get("box")
        if not (isinstance(box, list) and len(box) == 4 and all(_is_num(v) for v in box)):
            raise DataError(f"{where}: gt.bbox.box must be a list of four numbers, got {str(box)[:60]}")
        return ({"type": "bbox", "bbox": {"format": b.get("format", "xyxy"), "space": b.get("space", "permille"),
                                          "box": [float(v) for v in box]}}, (), None, None)
    m = gt.get("mask")
    if not isinstance(m, dict):
        raise DataError(f"{where}: gt.type=mask but no gt.mask object")
    rel = m.get("path")
    image_size(resolve(root, rel, where, "gt.mask.path"), where)
    return {"type": "mask", "mask": {"path": rel, "encoding": m.get("encoding")}}, (), None, str(rel)


def _fallback(*vals: Any) -> str:
    """``str(a or b or ...)``: the first truthy value, as RoboStressBench picks ids."""
    for v in vals:
        if v:
            s = str(v)
            if len(s) > MAX_TEXT:
                raise DataError(f"a value is longer than {MAX_TEXT} characters: {s[:60]!r}")
            return s
    return ""


def read_sample(root: Path, row: dict[str, Any], where: str, digest: Any = None) -> Sample:
    """One sample from its manifest row (``where`` names the row); reads and checks its record,
    image and mask."""
    rec_rel = row.get("record_relpath")
    rec_path = resolve(root, rec_rel, where, "record_relpath")
    where = f"{where} (record {rec_rel})"
    rec = _read_json(rec_path, MAX_RECORD_BYTES, where, digest)
    if not isinstance(rec, dict):
        raise DataError(f"{where}: a record must be a JSON object")
    ann = rec.get("annotation")
    if not isinstance(ann, dict):
        raise DataError(f"{where}: the record is missing its annotation object")
    instruction = ann.get("instruction")
    if not isinstance(instruction, str) or not instruction.strip() or len(instruction) > MAX_TEXT:
        raise DataError(f"{where}: annotation.instruction must be a non-empty string of at most {MAX_TEXT} characters")
    rgb = ann.get("rgb") or row.get("rgb_relpath")
    image_size(resolve(root, rgb, where, "annotation.rgb"), where)
    gt = ann.get("gt")
    if not isinstance(gt, dict):
        raise DataError(f"{where}: the record is missing its annotation.gt object")
    gt_type = gt.get("type") or row.get("gt_type")
    if not isinstance(gt_type, str) or gt_type not in GT_TYPES:
        raise DataError(f"{where}: unsupported gt.type {str(gt_type)[:40]!r} (one of mcq, bbox, mask)")
    normalized, options, answer_index, mask_rel = _gt(root, where, gt, gt_type)
    prov = ann.get("provenance", {})
    if not isinstance(prov, dict):
        raise DataError(f"{where}: annotation.provenance must be an object")
    try:
        dataset = _fallback(row.get("dataset"), prov.get("dataset"))
        subcategory = _fallback(row.get("subcategory"), prov.get("subcategory"))
        task = _fallback(row.get("task"), ann.get("task"))
        sample_id = _fallback(row.get("sample_id"), ann.get("sample_id"), rec_path.stem)
    except DataError as e:
        raise DataError(f"{where}: {e}") from None
    return Sample(sample_id=sample_id, dataset=dataset, subcategory=subcategory, task=task, gt_type=gt_type,
                  instruction=instruction.strip(), image_relpath=str(rgb), record_relpath=str(rec_rel),
                  ground_truth=normalized, stress=ann.get("stress"), options=options,
                  answer_index=answer_index, mask_relpath=mask_rel,
                  extra={k: v for k, v in rec.items() if k not in ("annotation", "sample_id", "status")})


def read_samples(root: Path, digest: Any = None) -> list[Sample]:
    """Every sample of ``root/manifest.jsonl`` in manifest order (blank lines skipped)."""
    path = root / "manifest.jsonl"
    if not path.is_file():
        raise DataError(f"{root} is not a RoboStressBench dataset folder (manifest.jsonl is missing)")
    data = _read_json_bytes(path)
    if digest is not None:
        digest.update(len(data).to_bytes(8, "big") + data)
    samples: list[Sample] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = loads_strict(line)
        except (ValueError, RecursionError) as e:
            raise DataError(f"{path}:{n}: not valid JSON ({str(e)[:80]})") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}:{n}: a manifest line must be a JSON object")
        s = read_sample(root, row, f"{path}:{n}", digest)
        if s.sample_id in seen:
            raise DataError(f"{path}:{n}: sample_id {s.sample_id!r} appears twice (first on line {seen[s.sample_id]})")
        seen[s.sample_id] = n
        samples.append(s)
        if len(samples) > MAX_SAMPLES:
            raise DataError(f"{path}: more than {MAX_SAMPLES} samples")
    if not samples:
        raise DataError(f"{path}: no samples")
    return samples


def _read_json_bytes(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_MANIFEST_BYTES:
        raise DataError(f"{path}: {size} bytes is over the limit of {MAX_MANIFEST_BYTES}")
    return path.read_bytes()


def _ability(sample: Sample, fmt: str) -> Ability:
    """The robostress ability of a sample, guessed from its task name."""
    if fmt == "box":
        return "target_grounding"
    task = sample.task.lower()
    found = next((a for word, a in _ABILITY_WORDS if word in task), None)
    if fmt == "point":
        return "placement_grounding" if found == "placement_grounding" else "target_grounding"
    return cast(Ability, found) if found and found != "placement_grounding" else "recognition"


def to_item(s: Sample, mask: np.ndarray | None = None) -> Item:
    """The robostress Item of a sample (``mask``: its mask as ``read_mask`` gives it, mask samples)."""
    fmt = cast(Format, GT_TYPES[s.gt_type])
    tag = first_tag(s.stress)
    dim, sub = to_robostress(*tag) if tag else ("none", "none")
    truth: dict[str, Any] = {"gt": s.ground_truth, "stress": s.stress, "dataset": s.dataset,
                             "subcategory": s.subcategory, "task": s.task, "gt_type": s.gt_type}
    answer = None
    if fmt == "mc":
        assert s.answer_index is not None
        answer = chr(65 + s.answer_index)
    elif fmt == "box":
        truth["box"] = list(s.ground_truth["bbox"]["box"])
    else:
        truth.update(mask=s.mask_relpath, instances=[1], point=oracle_point(mask) if mask is not None else None)
    return Item(item_id=s.sample_id, key=s.task or s.gt_type, frame_id=s.sample_id, scene_id=s.sample_id,
                clean_item_id=s.sample_id, image=s.image_relpath, dimension=dim, subtype=sub,
                severity=1 if tag else 0, ability=_ability(s, fmt), qtype=s.task if fmt == "mc" else fmt,
                format=fmt, question=s.instruction, prompt=rsb_prompt(s.instruction, s.gt_type, s.options),
                options=s.options, answer=answer, truth=truth, prompt_version=RSB_PROMPT_VERSION)


class RsbDataset(Benchmark):
    """A RoboStressBench dataset folder, read as a Benchmark so that robostress's runner evaluates it.

    ``content_hash`` covers ``manifest.jsonl``, every record, the scorer and prompt versions and
    the parser (``lenient`` or ``strict``), so a run never resumes on changed questions, truths or
    rules; images and masks are identified by their paths (RoboStressBench ships no file hashes).
    """

    def __init__(self, root: Path | str, parser: str = "lenient") -> None:  # noqa: D107
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise DataError(f"dataset_dir {root} is not a folder")
        h = hashlib.sha256()
        self.samples = read_samples(self.root, h)
        self.items = [to_item(s, read_mask(self.path(s.mask_relpath)) if s.mask_relpath else None)  # type: ignore[misc]
                      for s in self.samples]
        self.manifest = {"name": re.sub(r"[^A-Za-z0-9._-]", "_", self.root.name)[:100] or "rsb",
                         "content_hash": f"{RSB_SCORER_VERSION}-{RSB_PROMPT_VERSION}-{parser}-{h.hexdigest()}"}
        self.by_id = {s.sample_id: s for s in self.samples}

    def mask(self, rel: str) -> np.ndarray:
        """A mask of the dataset as RoboStressBench reads it (``read_mask``)."""
        return read_mask(self.path(rel))
