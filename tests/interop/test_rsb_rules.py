"""RoboStressBench's rules, hand-computed: prompt, lenient parser (every rule in order), coordinate
rules (permille, fraction detection, clamping, swapped corners, float IoU at 0.95), the mask pixel
rule on convert("L"), multi-tag counting, summary key order and submission shape."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from robostress.interop.robostressbench import read_mask, rsb_prompt
from robostress.interop.rsb_scoring import (
    box_iou,
    compute_metrics,
    float_iou,
    lenient_mcq_index,
    lenient_numbers,
    mask_pixel,
    parse_lenient,
    parse_strict,
    point_hit,
    pred_space,
    sample_score,
    submission,
    summarize,
)
from robostress.interop.rsb_taxonomy import (
    CANONICAL_SECONDARIES,
    ROBOSTRESS_TO_RSB,
    RSB_TO_ROBOSTRESS,
    first_tag,
    to_robostress,
    to_rsb,
)
from robostress.stress import all_stresses


def test_prompt_is_bare_for_boxes_and_points_and_lettered_with_the_footer_for_mcq() -> None:
    assert rsb_prompt("  Box the cup.\n ", "bbox") == "Box the cup."
    assert rsb_prompt("Point to the cup.", "mask") == "Point to the cup."
    assert rsb_prompt(" Which object is left? ", "mcq", (" cup", "bowl")) == (
        "Which object is left?\n\nA.  cup\nB. bowl\n\n"
        "Answer with exactly one uppercase letter only. Do not output anything else.")
    many = tuple(f"o{i}" for i in range(30))
    assert rsb_prompt("q", "mcq", many).count("\n") == 2 + 25 + 2  # only 26 options shown (A..Z)
    assert "Z. o25" in rsb_prompt("q", "mcq", many) and "o26" not in rsb_prompt("q", "mcq", many)


@pytest.mark.parametrize("reply,index", [
    ("B", 1), ("b", 1), ("  c \n", 2),                       # 1: the whole reply is one letter
    ("E", None), ("Z", None), ("5", None),                   # out of range everywhere
    ("Answer: b", 1), ("answer: (C)", 2), ("Choice:D", 3),   # 2: cue word, non-letters, one-letter word
    ("option A or B", 0),                                    # 2: only the first cue match counts
    ("The answer is B", 1),                                  # 2 fails ("is"), 3: the one single letter
    ("the best is c", 2), ("answers: C", 2),                 # 3 ("answers" is not the cue word)
    ("**B**", 1), ("(B)", 1), ("B)", 1),                     # 3
    ("I think it's B", None),                                # 3: I, s, B -> several; 4: I out of range
    ("I choose B", None),
    ("A cup", 0), ("B. the red cup", 1), ("The red cup is A", 0),
    ("C and D", 2),                                          # 4: first character of the first line
    ("Answer is C.\nBecause A is wrong", 0),                  # 4 takes the "A" of "Answer"
    ("Option 2", 1), ("3", 2), ("The answer is 3.", 2),      # 5: 1-based number
    ("0", 0),                                                # 5: 0 -> index 0
    ("", None), ("   ", None),
])
def test_lenient_mcq_rules_in_order(reply: str, index: int | None) -> None:
    assert lenient_mcq_index(reply, 4) == index
    assert lenient_mcq_index(None, 4) is None


def test_lenient_mcq_unicode_corners() -> None:
    assert lenient_mcq_index("ß", 4) is None  # "SS": RoboStressBench's run stops here; robostress: unparsed
    assert lenient_mcq_index("ſ", 20) == 18   # long s upper-cases to S


@pytest.mark.parametrize("reply,n,numbers", [
    ("(100, 200, 300, 400)", 4, [100.0, 200.0, 300.0, 400.0]),
    ("[100,200,300,400]", 4, [100.0, 200.0, 300.0, 400.0]),
    ('{"bbox_2d": [12, 34, 56, 78]}', 4, [12.0, 34.0, 56.0, 78.0]),
    ("x1: 100, y1: 200, x2: 300, y2: 400", 4, [1.0, 100.0, 1.0, 200.0]),  # digits of the labels count
    ("[[1,2,3,4]]", 4, [1.0, 2.0, 3.0, 4.0]),                   # fallback: numbers anywhere
    ("(1,2) to (3,4)", 4, [1.0, 2.0, 3.0, 4.0]),
    ("100-200-300-400", 4, [100.0, -200.0, -300.0, -400.0]),
    ("1e2 2e2 3 4", 4, [100.0, 200.0, 3.0, 4.0]),
    ("[1, 2, 3, 4, 5]", 4, [1.0, 2.0, 3.0, 4.0]),               # fallback truncates
    ("[1,2,3]", 4, None),
    ("100, 200, 300, 400", 4, [100.0, 200.0, 300.0, 400.0]),    # the whole reply is a literal tuple
    ("['1', '2', '3', '4']", 4, [1.0, 2.0, 3.0, 4.0]),          # strings that float() reads
    ("(500, 500)", 2, [500.0, 500.0]),
    ("Point: x=300, y=400", 2, [300.0, 400.0]),
    ('<point x="30.5" y="40">', 2, [30.5, 40.0]),
    ("", 2, None), ("no idea", 2, None),
])
def test_lenient_number_sequences(reply: str, n: int, numbers: list[float] | None) -> None:
    assert lenient_numbers(reply, n) == numbers


def test_parsed_answer_objects() -> None:
    mcq = {"type": "mcq", "mcq": {"options": ["a", "b", "c"], "answer_index": 1}}
    box = {"type": "bbox", "bbox": {"format": "xyxy", "space": "permille", "box": [0.0, 0.0, 1.0, 1.0]}}
    mask = {"type": "mask", "mask": {"path": "m.png", "encoding": None}}
    assert parse_lenient(mcq, "b") == {"kind": "mcq", "answer_index": 1, "answer": "B"}
    assert parse_lenient(box, "[1, 2, 3, 4]") == {"kind": "bbox", "box": [1.0, 2.0, 3.0, 4.0], "space": "permille"}
    assert parse_lenient(mask, "(5, 6)") == {"kind": "mask", "point": [5.0, 6.0], "space": "permille"}
    assert parse_lenient(mask, "nothing") is None and parse_lenient(mcq, None) is None
    # the strict parser gives the same objects, but refuses what it cannot read unambiguously
    assert parse_strict(mcq, "b")[0] == parse_lenient(mcq, "b")
    assert parse_strict(box, "[1, 2, 3, 4]")[0] == parse_lenient(box, "[1, 2, 3, 4]")
    assert parse_strict(mcq, "Answer is C.\nBecause A is wrong")[0] is None  # lenient: A
    assert parse_strict(box, "x1: 100, y1: 200, x2: 300, y2: 400")[0] == {
        "kind": "bbox", "box": [100.0, 200.0, 300.0, 400.0], "space": "permille"}


def _box(b: list[float]) -> dict:  # type: ignore[type-arg]
    return {"type": "bbox", "bbox": {"format": "xyxy", "space": "permille", "box": b}}


def _pred(b: list[float], space: str | None = "permille") -> dict:  # type: ignore[type-arg]
    return {"kind": "bbox", "box": b, "space": space}


def test_float_iou_decides_the_095_threshold() -> None:
    gt = _box([100, 200, 500, 600])
    below = box_iou(_pred([101, 200, 520, 600]), gt)
    assert below == 0.9499999999999998  # exactly 19/20, but float64 says otherwise: wrong
    assert sample_score("bbox", {"bbox_iou": below}) == 0.0
    exact = box_iou(_pred([25, 0, 975, 1000]), _box([0, 0, 1000, 1000]))
    assert exact == 0.95 and sample_score("bbox", {"bbox_iou": exact}) == 1.0
    assert box_iou(_pred([100, 200, 500, 600]), gt) == 1.0
    assert box_iou(None, gt) == 0.0 and box_iou({"kind": "mask", "point": [1, 2]}, gt) == 0.0


def test_coordinates_clamp_swap_and_space() -> None:
    gt = _box([0, 0, 1000, 1000])
    assert box_iou(_pred([-50, -1, 1200, 5000]), gt) == 1.0      # clamped to [0, 1000] first
    assert box_iou(_pred([500, 600, 100, 200]), _box([100, 200, 500, 600])) == 1.0  # swapped corners
    assert box_iou(_pred([100, 200, 500, 600]), _box([500, 600, 100, 200])) == 1.0  # a swapped truth too
    assert box_iou(_pred([100, 100, 100, 900]), gt) == 0.0        # zero area
    # the parser always says "permille": a reply in fractions is read as permille (IoU ~ 0)
    assert box_iou(_pred([0.0, 0.0, 1.0, 1.0]), gt) == pytest.approx(1e-6)
    # without an explicit space, all |v| <= 1 against a permille truth means fractions
    assert pred_space([0.0, 0.0, 1.0, 1.0], None) == "fraction"
    assert box_iou(_pred([0.0, 0.0, 1.0, 1.0], None), gt) == 1.0
    assert pred_space([0.0, 0.0, 2.0, 1.0], None) == "permille"
    # a truth in another space passes through as [0, 1] values
    frac = {"type": "bbox", "bbox": {"space": "fraction", "box": [0.1, 0.2, 0.5, 0.6]}}
    assert box_iou({"kind": "bbox", "box": [0.1, 0.2, 0.5, 0.6], "space": "fraction"}, frac) == 1.0
    assert float_iou([0, 0, 0.5, 1], [0.5, 0, 1, 1]) == 0.0


def test_mask_pixel_rounds_half_to_even_on_w_minus_1() -> None:
    assert mask_pixel([0.25, 0.5], (9, 11)) == (2, 4)     # round(2.5) = 2
    assert mask_pixel([0.35, 0.5], (9, 11)) == (4, 4)     # round(3.5) = 4
    assert mask_pixel([0.249, 0.5], (9, 11)) == (2, 4)
    assert mask_pixel([0.251, 0.5], (9, 11)) == (3, 4)
    assert mask_pixel([1.0, 1.0], (5, 7)) == (6, 4)       # the last pixel, not past it
    assert mask_pixel([-3.0, 7.0], (5, 7)) == (0, 4)      # clipped to [0, 1]
    m = np.zeros((9, 11), np.uint8)
    m[2:6, 3:7] = 255
    hit = {"kind": "mask", "space": "permille"}
    assert point_hit({**hit, "point": [300, 500]}, m) == (True, (3, 4))
    assert point_hit({**hit, "point": [250, 500]}, m) == (False, (2, 4))
    assert point_hit({**hit, "point": [700, 500]}, m) == (False, (7, 4))
    assert point_hit(None, m) == (False, None)


def test_mask_is_read_by_luma_faint_blue_reads_0(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rgb = np.zeros((3, 4, 3), np.uint8)
    rgb[0, 0] = (0, 0, 4)    # faint pure blue: L = 4 * 114 / 1000 -> 0: outside
    rgb[0, 1] = (0, 0, 5)    # L = 1: inside
    rgb[0, 2] = (1, 0, 0)    # L = 0
    rgb[0, 3] = (0, 1, 0)    # L = 1
    Image.fromarray(rgb).save(tmp_path / "m.png")
    m = read_mask(tmp_path / "m.png")
    assert m.shape == (3, 4) and m[0].tolist() == [0, 1, 0, 1] and not m[1:].any()
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 3] = 255       # opaque black: alpha is dropped, L = 0
    rgba[1, 1] = (255, 255, 255, 0)  # transparent white: still L = 255
    Image.fromarray(rgba).save(tmp_path / "a.png")
    assert read_mask(tmp_path / "a.png").tolist() == [[0, 0], [0, 255]]
    gt = {"type": "mask", "mask": {"path": "m.png"}}
    at = {"kind": "mask", "space": "permille"}
    assert compute_metrics(gt, {**at, "point": [0, 0]}, m)["mask_correct"] is False
    assert compute_metrics(gt, {**at, "point": [333.4, 0]}, m)["mask_correct"] is True  # round(1.0002) = 1


def test_metrics_have_three_keys_and_only_their_own_filled() -> None:
    mcq = {"type": "mcq", "mcq": {"options": ["a", "b"], "answer_index": 1}}
    assert compute_metrics(mcq, None) == {"mcq_correct": False, "mask_correct": None, "bbox_iou": None}
    assert compute_metrics(_box([0, 0, 1, 1]), None) == {"mcq_correct": None, "mask_correct": None, "bbox_iou": 0.0}
    assert list(compute_metrics(mcq, {"kind": "mcq", "answer_index": 1})) == ["mcq_correct", "mask_correct", "bbox_iou"]


def _rec(sid: str, gt_type: str, ok: bool, stress: object, dataset: str = "01", parsed: bool = True,
         error: str | None = None, iou: float = 0.0) -> dict:  # type: ignore[type-arg]
    metrics = {"mcq_correct": None, "mask_correct": None, "bbox_iou": None}
    metrics[{"mcq": "mcq_correct", "mask": "mask_correct", "bbox": "bbox_iou"}[gt_type]] = iou if gt_type == "bbox" else ok
    return {"sample_id": sid, "gt_type": gt_type, "dataset": dataset, "stress": stress, "error": error,
            "parsed_answer": {"kind": gt_type} if parsed else None, "metrics": metrics}


GROUP_KEYS = ["total_questions", "parsed_count", "unparsed_count", "error_count", "unparsed_ratio", "mcq_count",
              "mcq_correct_count", "mcq_accuracy", "mask_count", "mask_correct_count", "mask_accuracy",
              "bbox_count", "bbox_mean_iou", "bbox_iou_ge_0_5_ratio", "bbox_iou_ge_0_95_ratio"]


def test_summary_keys_order_and_multi_tag_counting() -> None:
    records = [
        _rec("1", "mcq", True, {"V": ["truncated_out_of_frame"], "L": []}, "01"),
        _rec("2", "bbox", True, {"G": ["occlusion", "cluttered_layout"], "M": ["transparent"]}, "02", iou=0.96),
        _rec("3", "mask", False, {"G": ["occlusion"], "X": ["foo"]}, "02", parsed=False, error="boom"),
        _rec("4", "bbox", False, {"G": ["occlusion", "occlusion"], "V": ["tiny"]}, "01", iou=0.6),
        _rec("5", "mcq", False, "not a dict", "01"),
    ]
    s = summarize(records)
    assert list(s) == ["overall_statistics", "per_gt_type_statistics", "per_dataset_statistics",
                       "per_1st_level_stress", "per_2nd_level_stress"]
    o = s["overall_statistics"]
    assert list(o) == GROUP_KEYS + ["total_acc", "unparsed_by_gt_type", "unparsed_ratio_by_gt_type"]
    assert (o["total_questions"], o["parsed_count"], o["unparsed_count"], o["error_count"]) == (5, 4, 1, 1)
    assert o["total_acc"] == 2 / 5 and o["bbox_mean_iou"] == pytest.approx(0.78)
    assert (o["bbox_iou_ge_0_5_ratio"], o["bbox_iou_ge_0_95_ratio"]) == (1.0, 0.5)
    assert o["unparsed_by_gt_type"] == {"mcq": 0, "mask": 1, "bbox": 0}
    assert o["unparsed_ratio_by_gt_type"] == {"mcq": 0.0, "mask": 1.0, "bbox": 0.0}
    assert list(s["per_gt_type_statistics"]) == ["bbox", "mask", "mcq"]
    assert list(s["per_gt_type_statistics"]["mcq"]) == GROUP_KEYS
    assert list(s["per_dataset_statistics"]) == ["01", "02"]
    l1 = s["per_1st_level_stress"]
    assert list(l1) == ["G", "M", "V", "L"]
    assert list(l1["G"]) == GROUP_KEYS + ["stress_bucket_size", "total_acc"]
    assert {k: v["stress_bucket_size"] for k, v in l1.items()} == {"G": 3, "M": 1, "V": 2, "L": 0}  # once per letter
    assert l1["G"]["total_acc"] == 1 / 3 and l1["L"]["total_acc"] is None and l1["L"]["mcq_accuracy"] is None
    l2 = s["per_2nd_level_stress"]
    canon = [f"{p} {n}" for p in "GMVL" for n in CANONICAL_SECONDARIES[p]]
    assert len(canon) == 16
    assert list(l2) == canon[:12] + ["V tiny"] + canon[12:]  # all 16 always, extras after their letter
    assert l2["G occlusion"]["stress_bucket_size"] == 4   # records 2, 3 and 4 twice (a duplicate tag)
    assert l2["G occlusion"]["total_acc"] == 0.25
    assert l2["G cluttered_layout"]["stress_bucket_size"] == 1 and l2["G stacked_layout"]["total_acc"] is None
    assert "X foo" not in l2


def test_submission_shape() -> None:
    recs = [{"sample_id": "000002", "parsed_answer": {"kind": "bbox", "box": [1.0, 2.0, 3.0, 4.0], "space": "permille"}},
            {"sample_id": "000001", "parsed_answer": None}]
    sub = submission(recs, "m")
    assert list(sub) == ["schema_version", "benchmark", "dataset_version", "model_name", "predictions"]
    assert (sub["schema_version"], sub["benchmark"], sub["dataset_version"]) == ("1.0", "RoboStressBench", "1.0")
    assert sub["predictions"] == [{"sample_id": "000002", "parsed_answer": recs[0]["parsed_answer"]},
                                  {"sample_id": "000001", "parsed_answer": None}]  # order as given
    assert json.loads(json.dumps(sub)) == sub


def test_stress_names_map_to_robostress_subtypes_both_ways() -> None:
    ours = {(s.dimension, s.subtype) for s in all_stresses()}
    assert set(RSB_TO_ROBOSTRESS.values()) == ours and len(RSB_TO_ROBOSTRESS) == 16
    assert to_robostress("G", "non_rigid_deform") == ("geometry", "nonrigid_deformation")
    assert to_rsb("geometry", "nonrigid_deformation") == ("G", "non_rigid_deform")
    assert to_rsb("material", "low_contrast_blend") == ("M", "low_contrast_blend")
    assert all(to_robostress(*to_rsb(*k)) == k for k in ROBOSTRESS_TO_RSB)
    assert to_robostress("V", "tiny") == ("viewpoint", "tiny")
    assert first_tag({"L": ["local_overexposure"], "G": [], "V": ["small_scale"]}) == ("V", "small_scale")
    assert first_tag({}) is None and first_tag(None) is None and first_tag({"X": ["a"]}) is None
