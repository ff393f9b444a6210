"""RoboStressBench's scoring rules, its per-tag report and its ``submission.json``.

Rules (replies are parsed with robostress's strict parsers, ``robostress.scoring.parse``):

* ``mcq``: correct when the parsed letter is the answer (exact option).
* ``bbox``: IoU of the parsed box with the truth, both permille / 1000 clipped to [0, 1]. The score
  is the IoU; the sample counts as correct (in total accuracy) only at IoU >= 0.95, and mean IoU and
  IoU@0.5 are reported beside it. The IoU is computed in exact rational arithmetic from the parsed
  numbers, so a box at IoU exactly 0.95 (e.g. [25, 0, 975, 1000] against [0, 0, 1000, 1000], which
  float arithmetic puts at 0.94999...) is correct.
* ``mask``: the permille point (x, y) / 1000 is a hit where the mask pixel at
  (round(x * (w - 1)), round(y * (h - 1))) is > 0 (Python's round: halves to even).

An unparsable reply or a backend error scores 0. Each prediction's ``chance`` is the hit rate of the
``random`` baseline: 1 / options, P(IoU >= 0.95) of its box sampler, and for points the mask's share
under the rounding rule (edge pixels count half). ``parsed_answer`` in the submission is the option
index (mcq), the permille box (bbox) or the permille point (mask); null when unparsable.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from robostress.errors import DataError
from robostress.interop.robostressbench import tag_dimension
from robostress.metrics import wilson
from robostress.questions.item import LETTERS, Item
from robostress.scoring.chance import BOX_CHANCE_DRAWS, CHANCE_SEED, ious, random_boxes
from robostress.scoring.parse import parse_box, parse_choice, parse_point
from robostress.scoring.prediction import Prediction
from robostress.scoring.score import ScoreResult
from robostress.seeding import rng

BOX_CORRECT_IOU = Fraction(95, 100)
SUBMISSION_SCHEMA_VERSION = 1


def clip_box(box: Sequence[float]) -> tuple[Fraction, ...]:
    """A permille box as exact fractions of the image, clipped to [0, 1]."""
    return tuple(min(Fraction(1), max(Fraction(0), Fraction(v) / 1000)) for v in box)


def exact_iou(a: Sequence[float], b: Sequence[float]) -> Fraction:
    """IoU of two permille boxes after /1000 and clipping, as an exact fraction (0 for an empty union)."""
    p, q = clip_box(a), clip_box(b)
    inter = max(Fraction(0), min(p[2], q[2]) - max(p[0], q[0])) * max(Fraction(0), min(p[3], q[3]) - max(p[1], q[1]))
    area = (max(Fraction(0), p[2] - p[0]) * max(Fraction(0), p[3] - p[1])
            + max(Fraction(0), q[2] - q[0]) * max(Fraction(0), q[3] - q[1]))
    union = area - inter
    return inter / union if union > 0 else Fraction(0)


def point_hit(point: Sequence[float], mask: np.ndarray) -> tuple[bool, tuple[int, int]]:
    """Whether a permille point hits ``mask`` (H x W, > 0 inside) under RoboStressBench's rule."""
    h, w = mask.shape[:2]
    x, y = min(1.0, max(0.0, point[0] / 1000.0)), min(1.0, max(0.0, point[1] / 1000.0))
    px, py = round(x * (w - 1)), round(y * (h - 1))
    return bool(mask[py, px] > 0), (px, py)


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
def box_chance(box: tuple[float, ...]) -> float:
    """P(IoU >= 0.95) of the ``random`` baseline's box sampler with the clipped truth (the fixed
    sample of ``robostress.scoring.chance``, so it is deterministic)."""
    truth = [float(v) for v in clip_box(box)]
    return float((ious(_box_sample(), truth) >= 0.95).mean())


def score_rsb(item: Item, raw: str, masks: Callable[[str], np.ndarray]) -> ScoreResult:
    """Parse and score one reply to an imported item under RoboStressBench's rules."""
    if item.format == "mc":
        p = parse_choice(raw, item.options)
        ok = p.error is None and p.value == item.answer
        return ScoreResult(p.value, p.error, float(ok), ok, 1.0 / len(item.options))
    if item.format == "box":
        truth = tuple(float(v) for v in item.truth["box"])
        p = parse_box(raw)
        v = exact_iou(p.value, truth) if p.error is None else Fraction(0)
        return ScoreResult(p.value, p.error, float(v), v >= BOX_CORRECT_IOU, box_chance(truth),
                           {"iou": float(v), "iou@0.5": v >= Fraction(1, 2), "iou@0.95": v >= BOX_CORRECT_IOU})
    if item.format == "point":
        mask = np.asarray(masks(str(item.truth["mask"])))
        chance = point_chance(mask)
        p = parse_point(raw)
        if p.error is not None:
            return ScoreResult(None, p.error, 0.0, False, chance, {"in_mask": False})
        hit, pixel = point_hit(p.value, mask)
        return ScoreResult(p.value, None, float(hit), hit, chance, {"in_mask": hit, "pixel": list(pixel)})
    raise DataError(f"item {item.item_id}: unknown format {item.format!r}")


def parsed_answer(pred: Prediction) -> Any:
    """The submission's ``parsed_answer`` of a prediction (None when unparsable or failed)."""
    if pred.error is not None or pred.parsed is None:
        return None
    if pred.format == "mc":
        return LETTERS.index(str(pred.parsed))
    return [int(v) if float(v).is_integer() else float(v) for v in pred.parsed]


def submission(preds: Iterable[Prediction], dataset_version: str) -> dict[str, Any]:
    """RoboStressBench's ``submission.json`` content, samples in the order given."""
    return {"schema_version": SUBMISSION_SCHEMA_VERSION, "dataset_version": dataset_version,
            "predictions": [{"sample_id": p.item_id, "parsed_answer": parsed_answer(p)} for p in preds]}


def _cell(preds: list[Prediction]) -> dict[str, Any]:
    n = len(preds)
    k = sum(p.correct for p in preds)
    lo, hi = wilson(k, n)
    out: dict[str, Any] = {"n": n, "correct": k, "accuracy": k / n, "accuracy_ci95": [lo, hi],
                           "errors": sum(p.error is not None for p in preds),
                           "unparsed": sum(p.error is None and p.parsed is None for p in preds)}
    by_fmt: dict[str, list[Prediction]] = defaultdict(list)
    for p in preds:
        by_fmt[p.format].append(p)
    if by_fmt.get("mc"):
        mc = by_fmt["mc"]
        out["mcq"] = {"n": len(mc), "accuracy": sum(p.correct for p in mc) / len(mc)}
    if by_fmt.get("box"):
        bx = by_fmt["box"]
        out["bbox"] = {"n": len(bx), "mean_iou": sum(p.score for p in bx) / len(bx),
                       "iou@0.5": sum(bool(p.details.get("iou@0.5")) for p in bx) / len(bx),
                       "iou@0.95": sum(p.correct for p in bx) / len(bx)}
    if by_fmt.get("point"):
        pt = by_fmt["point"]
        out["mask"] = {"n": len(pt), "point_accuracy": sum(p.correct for p in pt) / len(pt)}
    return out


def summarize_rsb(preds: list[Prediction], tags: dict[str, Sequence[str]],
                  tasks: dict[str, str]) -> dict[str, Any]:
    """Overall, per stress tag, per dimension (tag prefix) and per task; a sample counts once in each
    of its tags and once in each dimension its tags name; untagged samples form ``clean``."""
    by_tag: dict[str, list[Prediction]] = defaultdict(list)
    by_dim: dict[str, list[Prediction]] = defaultdict(list)
    by_task: dict[str, list[Prediction]] = defaultdict(list)
    for p in preds:
        t = tags.get(p.item_id, ())
        for tag in dict.fromkeys(t) or ["clean"]:
            by_tag[tag].append(p)
        for dim in dict.fromkeys(tag_dimension(x)[0] for x in t) or ["clean"]:
            by_dim[dim].append(p)
        by_task[tasks.get(p.item_id, "?")].append(p)
    return {"overall": _cell(preds) if preds else {"n": 0},
            "per_dimension": {k: _cell(v) for k, v in sorted(by_dim.items())},
            "per_tag": {k: _cell(v) for k, v in sorted(by_tag.items())},
            "per_task": {k: _cell(v) for k, v in sorted(by_task.items())}}


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:120]


def report_md(summary: dict[str, Any], title: str) -> str:
    """A Markdown report: one table per grouping, counts beside every number."""
    lines = [f"# {_md(title)}", ""]
    for section in ("overall", "per_dimension", "per_tag", "per_task"):
        rows = {"all": summary[section]} if section == "overall" else summary[section]
        lines += [f"## {section.replace('_', ' ')}", "",
                  "| group | n | accuracy | 95% CI | mcq acc (n) | bbox mean IoU / @0.5 / @0.95 (n) | mask point acc (n) | errors |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, c in rows.items():
            if not c.get("n"):
                continue
            mc, bx, mk = c.get("mcq"), c.get("bbox"), c.get("mask")
            lines.append(
                f"| {_md(name)} | {c['n']} | {c['accuracy']:.3f} | {c['accuracy_ci95'][0]:.3f}-{c['accuracy_ci95'][1]:.3f} | "
                + (f"{mc['accuracy']:.3f} ({mc['n']})" if mc else "-") + " | "
                + (f"{bx['mean_iou']:.3f} / {bx['iou@0.5']:.3f} / {bx['iou@0.95']:.3f} ({bx['n']})" if bx else "-") + " | "
                + (f"{mk['point_accuracy']:.3f} ({mk['n']})" if mk else "-") + f" | {c['errors']} |")
        lines.append("")
    return "\n".join(lines)
