"""RoboStressBench's parsing and scoring rules, its per-record file, ``summary.json`` and
``submission.json`` (``eval/parsing.py``, ``eval/metrics.py`` and ``eval/results.py`` of
YUEVII/RoboStressBench at f174306, reimplemented from their behaviour).

Parsing (``parser=lenient``, RoboStressBench's own), on the stripped reply:

* mcq, rules in order, the first that gives an index inside the options wins: (1) the whole
  reply is one letter; (2) the first cue ``answer|option|choice`` followed by non-letters and a
  one-letter word; (3) exactly one one-letter word in the reply; (4) the first character of the
  first line, if a letter; (5) the first whole number ``v``: ``v - 1`` if 1 <= v <= options, else
  ``v`` if 0 <= v < options. Letters are case-insensitive.
* bbox (4 numbers) and mask point (2): the first non-nested ``[...]`` or ``(...)``, then the
  whole reply, read as a Python literal list/tuple of exactly n numbers; else the first n
  numbers anywhere in the reply.
* the result is ``{"kind": "mcq", "answer_index", "answer"}``, ``{"kind": "bbox", "box",
  "space"}`` (the truth's space) or ``{"kind": "mask", "point", "space": "permille"}``; None when
  unparsed. ``parser=strict`` reads the reply with robostress's strict parsers instead and gives
  the same objects.

Scoring: mcq correct when the index is the answer's; bbox IoU in float64 after ``clamp(v, 0,
1000) / 1000`` (permille), clipping to [0, 1] and swapping reversed corners, correct at
IoU >= 0.95 (the float result decides: 0.9499999999999998 is wrong); mask: the permille point
clamped to [0, 1] hits when the mask's ``convert("L")`` pixel at ``(round(x * (w - 1)),
round(y * (h - 1)))`` (halves to even) is > 0.
"""

from __future__ import annotations

import ast
import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from robostress.errors import DataError
from robostress.interop.rsb_taxonomy import CANONICAL_SECONDARIES, PRIMARIES
from robostress.questions.item import LETTERS, Item
from robostress.scoring.chance import BOX_CHANCE_DRAWS, CHANCE_SEED, ious, random_boxes
from robostress.scoring.parse import parse_box, parse_choice, parse_point
from robostress.scoring.score import MaskLoader, Scorer, ScoreResult
from robostress.seeding import rng

BENCHMARK = "RoboStressBench"
SCHEMA_VERSION = "1.0"
DATASET_VERSION = "1.0"
BOX_CORRECT_IOU = 0.95
PARSERS = ("lenient", "strict")
_NUMBER_RE = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_LETTER_CUE_RE = re.compile(r"\b(?:answer|option|choice)\b[^A-Z]*([A-Z])\b", re.IGNORECASE)
_SINGLE_LETTER_RE = re.compile(r"\b([A-Z])\b", re.IGNORECASE)
_BRACKET_RE = re.compile(r"(\[[^\]]+\]|\([^\)]+\))")
_INT_RE = re.compile(r"\b(\d+)\b")
METRIC_KEYS = ("mcq_correct", "mask_correct", "bbox_iou")


# ---------------------------------------------------------------- parsing (lenient: RoboStressBench's)

def _letter_index(ch: str) -> int | None:
    """Index of a letter A-Z (either case) or None; a character whose upper case is not one
    character (``ß`` -> ``SS``, where RoboStressBench's run crashes) gives None."""
    up = ch.upper()
    return ord(up) - 65 if len(up) == 1 and "A" <= up <= "Z" else None


def lenient_mcq_index(raw: str | None, option_count: int) -> int | None:
    """RoboStressBench's multiple-choice index of a reply (rules 1-5 of the module docstring)."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()

    def ok(i: int | None) -> bool:
        return i is not None and 0 <= i < option_count

    if len(text.upper()) == 1 and ok(i := _letter_index(text)):
        return i
    cue = _LETTER_CUE_RE.search(text)
    if cue and ok(i := _letter_index(cue.group(1))):
        return i
    single = _SINGLE_LETTER_RE.findall(text)
    if len(single) == 1 and ok(i := _letter_index(single[0])):
        return i
    first = text.splitlines()[0].strip()
    if first and ok(i := _letter_index(first[0])):
        return i
    num = _INT_RE.search(text)
    if num:
        v = int(num.group(1))
        if 1 <= v <= option_count:
            return v - 1
        if 0 <= v < option_count:
            return v
    return None


def _literal_numbers(candidate: str, n: int) -> list[float] | None:
    """A Python literal list or tuple of exactly ``n`` items that ``float()`` accepts, else None.
    (Anything the literal reader raises rejects the candidate; RoboStressBench's run would stop on
    an error other than SyntaxError/ValueError.)"""
    try:
        value = ast.literal_eval(candidate)
    except Exception:  # noqa: BLE001 - untrusted text: any failure is "not this candidate"
        return None
    if not isinstance(value, (list, tuple)) or len(value) != n:
        return None
    try:
        return [float(v) for v in value]
    except (TypeError, ValueError, OverflowError):
        return None


def lenient_numbers(raw: str | None, n: int) -> list[float] | None:
    """RoboStressBench's number sequence of length ``n`` in a reply (4: box, 2: point)."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    candidates = [text]
    m = _BRACKET_RE.search(text)
    if m:
        candidates.insert(0, m.group(1))
    for c in candidates:
        got = _literal_numbers(c, n)
        if got is not None:
            return got
    nums = [float(x.group(0)) for x in _NUMBER_RE.finditer(text)]
    return nums[:n] if len(nums) >= n else None


def mcq_answer(i: int) -> dict[str, Any]:
    """RoboStressBench's parsed multiple-choice answer object."""
    return {"kind": "mcq", "answer_index": i, "answer": chr(65 + i) if i < 26 else str(i)}


def parse_lenient(gt: dict[str, Any], raw: str | None) -> dict[str, Any] | None:
    """RoboStressBench's ``parsed_answer`` of a reply to a sample with normalized truth ``gt``."""
    kind = gt.get("type")
    if kind == "mcq":
        i = lenient_mcq_index(raw, len(gt["mcq"]["options"]))
        return None if i is None else mcq_answer(i)
    if kind == "bbox":
        box = lenient_numbers(raw, 4)
        return None if box is None else {"kind": "bbox", "box": box, "space": str(gt["bbox"].get("space", "permille"))}
    if kind == "mask":
        pt = lenient_numbers(raw, 2)
        return None if pt is None else {"kind": "mask", "point": pt, "space": "permille"}
    return None


def parse_strict(gt: dict[str, Any], raw: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """robostress's strict parse of a reply, as a RoboStressBench answer object (and the parse error)."""
    kind = gt.get("type")
    text = raw or ""
    if kind == "mcq":
        opts = tuple(gt["mcq"]["options"])
        p = parse_choice(text, opts[:len(LETTERS)])
        return (None, p.error) if p.error else (mcq_answer(LETTERS.index(str(p.value))), None)
    if kind == "bbox":
        p = parse_box(text)
        return (None, p.error) if p.error else (
            {"kind": "bbox", "box": [float(v) for v in p.value], "space": str(gt["bbox"].get("space", "permille"))}, None)
    if kind == "mask":
        p = parse_point(text)
        return (None, p.error) if p.error else (
            {"kind": "mask", "point": [float(v) for v in p.value], "space": "permille"}, None)
    return None, f"unknown gt type {kind!r}"


# ---------------------------------------------------------------- metrics

def _clip01(v: float) -> float:
    return max(0.0, min(1.0, v))


def normalize(values: Sequence[float], space: str) -> list[float]:
    """Permille -> [0, 1] as ``clamp(v, 0, 1000) / 1000``; any other space passes through."""
    if space == "permille":
        return [max(0.0, min(1000.0, float(v))) / 1000.0 for v in values]
    return [float(v) for v in values]


def pred_space(values: Sequence[float], explicit: Any, gt_space: str = "permille") -> str:
    """The space of a predicted box or point: its explicit ``space`` (the parsers always set it),
    else ``fraction`` when every |v| <= 1 (and the truth is permille), else the truth's space."""
    if explicit is not None:
        return str(explicit)
    if values and gt_space == "permille" and max(abs(float(v)) for v in values) <= 1.0:
        return "fraction"
    return gt_space


def float_iou(pred: Sequence[float], gt: Sequence[float]) -> float:
    """RoboStressBench's IoU of two [0, 1] boxes: clip, swap reversed corners, float64 arithmetic."""
    px1, py1, px2, py2 = (_clip01(float(v)) for v in pred)
    gx1, gy1, gx2, gy2 = (_clip01(float(v)) for v in gt)
    px1, px2 = min(px1, px2), max(px1, px2)
    py1, py2 = min(py1, py2), max(py1, py2)
    gx1, gx2 = min(gx1, gx2), max(gx1, gx2)
    gy1, gy2 = min(gy1, gy2), max(gy1, gy2)
    inter = max(0.0, min(px2, gx2) - max(px1, gx1)) * max(0.0, min(py2, gy2) - max(py1, gy1))
    union = max(0.0, px2 - px1) * max(0.0, py2 - py1) + max(0.0, gx2 - gx1) * max(0.0, gy2 - gy1) - inter
    return 0.0 if union <= 0 else inter / union


def box_iou(parsed: dict[str, Any] | None, gt: dict[str, Any]) -> float:
    """``bbox_iou`` of a parsed answer against a normalized bbox truth (0.0 when unparsed)."""
    if parsed is None or parsed.get("kind") != "bbox":
        return 0.0
    space = str(gt["bbox"].get("space", "permille"))
    g = normalize(gt["bbox"].get("box", []), space)
    p = normalize(parsed.get("box", []), pred_space(parsed.get("box", []), parsed.get("space"), space))
    return float_iou(p, g) if len(g) == 4 and len(p) == 4 else 0.0


def mask_pixel(point: Sequence[float], shape: tuple[int, ...]) -> tuple[int, int]:
    """The (x, y) pixel a [0, 1] point falls on: ``round(v * (size - 1))`` (halves to even), clamped."""
    h, w = shape[:2]
    x = min(w - 1, max(0, int(round(_clip01(float(point[0])) * (w - 1)))))
    y = min(h - 1, max(0, int(round(_clip01(float(point[1])) * (h - 1)))))
    return x, y


def point_hit(parsed: dict[str, Any] | None, mask: np.ndarray | None) -> tuple[bool, tuple[int, int] | None]:
    """Whether a parsed mask answer hits ``mask`` (``read_mask``: L > 0 inside), and the pixel."""
    if parsed is None or parsed.get("kind") != "mask" or mask is None:
        return False, None
    pt = parsed.get("point", [])
    v = normalize(pt, pred_space(pt, parsed.get("space")))
    xy = mask_pixel(v, mask.shape)
    return bool(mask[xy[1], xy[0]] > 0), xy


def compute_metrics(gt: dict[str, Any], parsed: dict[str, Any] | None,
                    mask: np.ndarray | None = None) -> dict[str, Any]:
    """RoboStressBench's 3-key metrics: only the gt type's own key is filled."""
    out: dict[str, Any] = dict.fromkeys(METRIC_KEYS)
    kind = gt.get("type")
    if kind == "mcq":
        out["mcq_correct"] = parsed is not None and parsed.get("kind") == "mcq" and \
            parsed.get("answer_index") == gt["mcq"]["answer_index"]
    elif kind == "bbox":
        out["bbox_iou"] = box_iou(parsed, gt)
    elif kind == "mask":
        out["mask_correct"] = point_hit(parsed, mask)[0]
    return out


def sample_score(gt_type: str, metrics: dict[str, Any]) -> float:
    """The per-sample score of ``total_acc``: mcq and mask 0/1, bbox 1 iff IoU >= 0.95."""
    if gt_type == "mcq":
        return 1.0 if metrics.get("mcq_correct") is True else 0.0
    if gt_type == "mask":
        return 1.0 if metrics.get("mask_correct") is True else 0.0
    if gt_type == "bbox":
        iou = metrics.get("bbox_iou")
        return 1.0 if iou is not None and float(iou) >= BOX_CORRECT_IOU else 0.0
    return 0.0


# ---------------------------------------------------------------- robostress scorer

def _round_weights(n: int) -> np.ndarray:
    """Share of uniform x in [0, 1] that round(x * (n - 1)) sends to each of n pixels (edges half)."""
    if n == 1:
        return np.ones(1)
    w = np.full(n, 1.0 / (n - 1))
    w[[0, -1]] /= 2
    return w


def point_chance(mask: np.ndarray) -> float:
    """Hit rate of a uniformly random point under the rounding rule (edge pixels count half)."""
    inside = (np.asarray(mask) > 0).astype(float)
    return float(_round_weights(inside.shape[0]) @ inside @ _round_weights(inside.shape[1]))


@functools.lru_cache(maxsize=1)
def _box_sample() -> np.ndarray:
    return np.clip(random_boxes(rng(CHANCE_SEED, "box-chance"), BOX_CHANCE_DRAWS) / 1000.0, 0.0, 1.0)


@functools.lru_cache(maxsize=65536)
def box_chance(box: tuple[float, ...], space: str = "permille") -> float:
    """P(IoU >= 0.95) of the ``random`` baseline's box sampler (robostress.scoring.chance) against
    the truth box; deterministic."""
    g = [_clip01(v) for v in normalize(box, space)]
    truth = [min(g[0], g[2]), min(g[1], g[3]), max(g[0], g[2]), max(g[1], g[3])]
    return float((ious(_box_sample(), truth) >= BOX_CORRECT_IOU).mean())


def judge(item: Item, raw: str | None, mask: np.ndarray | None, parser: str) -> dict[str, Any]:
    """One parser's verdict: ``parsed_answer``, ``metrics``, ``score`` (total_acc's 0/1) and the
    strict parser's error."""
    gt = item.truth["gt"]
    if parser == "lenient":
        parsed, err = parse_lenient(gt, raw), None
    else:
        parsed, err = parse_strict(gt, raw)
    metrics = compute_metrics(gt, parsed, mask)
    return {"parsed_answer": parsed, "metrics": metrics, "score": sample_score(gt["type"], metrics),
            "parse_error": err if parsed is None else None}


def rsb_scorer(parser: str = "lenient") -> Scorer:
    """A robostress scorer under RoboStressBench's rules, replies read by ``parser`` (lenient or
    strict); its details hold both parsers' verdicts (``lenient``, ``strict``)."""
    if parser not in PARSERS:
        raise DataError(f"rsb.parser={parser!r} is not one of {', '.join(PARSERS)}")

    def score(item: Item, raw: str, masks: MaskLoader) -> ScoreResult:
        gt = item.truth.get("gt")
        if not isinstance(gt, dict) or gt.get("type") not in ("mcq", "bbox", "mask"):
            raise DataError(f"item {item.item_id}: not a RoboStressBench item (no truth.gt)")
        mask = np.asarray(masks(str(item.truth["mask"]))) if gt["type"] == "mask" else None
        both = {p: judge(item, raw, mask, p) for p in PARSERS}
        main = both[parser]
        if gt["type"] == "mcq":
            chance = 1.0 / len(gt["mcq"]["options"])
        elif gt["type"] == "bbox":
            chance = box_chance(tuple(gt["bbox"]["box"]), str(gt["bbox"].get("space", "permille")))
        else:
            chance = point_chance(mask) if mask is not None else 0.0
        m = main["metrics"]
        value = float(m["bbox_iou"]) if gt["type"] == "bbox" else main["score"]
        pa = main["parsed_answer"]
        parsed = None if pa is None else (pa["answer"] if pa["kind"] == "mcq" else pa.get("box", pa.get("point")))
        err = None if pa is not None else (main["parse_error"] or "no answer RoboStressBench's parser accepts")
        details: dict[str, Any] = {"parser": parser, **{p: {k: v for k, v in j.items() if k != "parse_error"}
                                                        for p, j in both.items()}}
        if gt["type"] == "mask" and pa is not None:
            details["pixel"] = list(point_hit(pa, mask)[1] or [])
        return ScoreResult(parsed, err, value, main["score"] == 1.0, chance, details)

    return score


# ---------------------------------------------------------------- outputs

def prediction_record(sample: Any, item: Item, raw: str | None, error: str | None, model_name: str,
                      verdict: dict[str, Any]) -> dict[str, Any]:
    """One entry of RoboStressBench's ``predictions.json`` (its keys, its order)."""
    return {"question_id": sample.sample_id, "sample_id": sample.sample_id, "dataset": sample.dataset,
            "subcategory": sample.subcategory, "task": sample.task, "gt_type": sample.gt_type,
            "stress": sample.stress, "image_path": sample.image_relpath, "record_path": sample.record_relpath,
            "prompt": item.prompt, "raw_response": raw, "parsed_answer": verdict["parsed_answer"],
            "ground_truth": sample.ground_truth, "metrics": verdict["metrics"], "model_name": model_name,
            "error": error, "rectified_image_path": None}


def _group(records: list[dict[str, Any]]) -> dict[str, Any]:
    total = len(records)
    parsed = sum(r["parsed_answer"] is not None for r in records)
    by = {t: [r for r in records if r["gt_type"] == t] for t in ("mcq", "mask", "bbox")}
    mcq_ok = sum(r["metrics"].get("mcq_correct") is True for r in by["mcq"])
    mask_ok = sum(r["metrics"].get("mask_correct") is True for r in by["mask"])
    ious_ = [float(r["metrics"]["bbox_iou"]) for r in by["bbox"] if r["metrics"].get("bbox_iou") is not None]
    return {"total_questions": total, "parsed_count": parsed, "unparsed_count": total - parsed,
            "error_count": sum(bool(r["error"]) for r in records),
            "unparsed_ratio": (total - parsed) / total if total else 0.0,
            "mcq_count": len(by["mcq"]), "mcq_correct_count": mcq_ok,
            "mcq_accuracy": mcq_ok / len(by["mcq"]) if by["mcq"] else None,
            "mask_count": len(by["mask"]), "mask_correct_count": mask_ok,
            "mask_accuracy": mask_ok / len(by["mask"]) if by["mask"] else None,
            "bbox_count": len(by["bbox"]), "bbox_mean_iou": sum(ious_) / len(ious_) if ious_ else None,
            "bbox_iou_ge_0_5_ratio": sum(v >= 0.5 for v in ious_) / len(ious_) if ious_ else None,
            "bbox_iou_ge_0_95_ratio": sum(v >= 0.95 for v in ious_) / len(ious_) if ious_ else None}


def _mean_score(records: list[dict[str, Any]]) -> float:
    return sum(sample_score(r["gt_type"], r["metrics"]) for r in records) / len(records)


def _stress_block(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {**_group(records), "stress_bucket_size": len(records),
            "total_acc": _mean_score(records) if records else None}


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """RoboStressBench's summary of per-record results (``prediction_record`` entries): overall,
    per gt type, per dataset, per primary letter (a sample once per letter it names) and per
    ``"<letter> <name>"`` (once per listed name, duplicates included; all 16 canonical keys
    always present, then the others of each letter sorted)."""
    first: dict[str, list[dict[str, Any]]] = {p: [] for p in PRIMARIES}
    second: dict[str, list[dict[str, Any]]] = defaultdict(list)
    per_gt: dict[str, list[dict[str, Any]]] = defaultdict(list)
    per_ds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        per_gt[r["gt_type"]].append(r)
        per_ds[r["dataset"]].append(r)
        stress = r["stress"]
        if not isinstance(stress, dict):
            continue
        for p in PRIMARIES:
            val = stress.get(p)
            if isinstance(val, list):
                if val:
                    first[p].append(r)
                for name in val:
                    second[f"{p} {name}"].append(r)
    order: list[str] = []
    for p in PRIMARIES:
        canon = [f"{p} {n}" for n in CANONICAL_SECONDARIES[p]]
        order += canon + sorted(k for k in second if k.split(" ", 1)[0] == p and k not in canon)
    order += sorted(k for k in second if k not in order)
    overall = {**_group(records), "total_acc": _mean_score(records) if records else 0.0}
    unparsed = {t: sum(r["gt_type"] == t and r["parsed_answer"] is None for r in records) for t in ("mcq", "mask", "bbox")}
    counts = {"mcq": overall["mcq_count"], "mask": overall["mask_count"], "bbox": overall["bbox_count"]}
    overall["unparsed_by_gt_type"] = unparsed
    overall["unparsed_ratio_by_gt_type"] = {t: unparsed[t] / counts[t] if counts[t] else 0.0 for t in unparsed}
    return {"overall_statistics": overall,
            "per_gt_type_statistics": {k: _group(v) for k, v in sorted(per_gt.items())},
            "per_dataset_statistics": {k: _group(v) for k, v in sorted(per_ds.items())},
            "per_1st_level_stress": {p: _stress_block(first[p]) for p in PRIMARIES},
            "per_2nd_level_stress": {k: _stress_block(second.get(k, [])) for k in order}}


def submission(records: Iterable[dict[str, Any]], model_name: str,
               dataset_version: str = DATASET_VERSION) -> dict[str, Any]:
    """RoboStressBench's ``submission.json``: per sample only ``sample_id`` and ``parsed_answer``."""
    return {"schema_version": SCHEMA_VERSION, "benchmark": BENCHMARK, "dataset_version": dataset_version,
            "model_name": model_name,
            "predictions": [{"sample_id": r["sample_id"], "parsed_answer": r["parsed_answer"]} for r in records]}


# ---------------------------------------------------------------- report (robostress's: both parsers)

def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")[:120]


def _f(v: Any) -> str:
    return "-" if v is None else f"{v:.4f}"


def report_md(summaries: dict[str, dict[str, Any]], title: str, main: str) -> str:
    """Markdown tables of RoboStressBench's groups with the lenient (RoboStressBench's) and the
    strict (robostress's) parser side by side; ``main`` is the parser of summary.json."""
    le, st = summaries["lenient"], summaries["strict"]
    lines = [f"# {_md(title)}", "",
             f"summary.json and submission.json use the **{main}** parser. Lenient = RoboStressBench's "
             "parser; strict = robostress's. total_acc: mcq and mask 0/1, bbox 1 iff IoU >= 0.95.", ""]
    sections = [("overall", {"all": (le["overall_statistics"], st["overall_statistics"])})]
    for key, name in (("per_gt_type_statistics", "per gt type"), ("per_dataset_statistics", "per dataset"),
                      ("per_1st_level_stress", "per stress (level 1)"),
                      ("per_2nd_level_stress", "per stress (level 2)")):
        sections.append((name, {k: (le[key][k], st[key][k]) for k in le[key]}))
    for name, rows in sections:
        lines += [f"## {name}", "", "| group | n | total_acc lenient | total_acc strict | unparsed lenient | "
                  "unparsed strict | mcq acc l / s | mask acc l / s | bbox mean IoU l / s |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for k, (a, b) in rows.items():
            if not a["total_questions"]:
                continue
            ta = a.get("total_acc", _mean_placeholder(a))
            tb = b.get("total_acc", _mean_placeholder(b))
            lines.append(f"| {_md(k)} | {a['total_questions']} | {_f(ta)} | {_f(tb)} | {a['unparsed_count']} | "
                         f"{b['unparsed_count']} | {_f(a['mcq_accuracy'])} / {_f(b['mcq_accuracy'])} | "
                         f"{_f(a['mask_accuracy'])} / {_f(b['mask_accuracy'])} | "
                         f"{_f(a['bbox_mean_iou'])} / {_f(b['bbox_mean_iou'])} |")
        lines.append("")
    return "\n".join(lines)


def _mean_placeholder(block: dict[str, Any]) -> float | None:
    """total_acc of a group block that has none (per gt type / dataset): from its counts."""
    n = block["total_questions"]
    if not n:
        return None
    bbox_hits = (block["bbox_iou_ge_0_95_ratio"] or 0.0) * block["bbox_count"]
    return (block["mcq_correct_count"] + block["mask_correct_count"] + bbox_hits) / n
