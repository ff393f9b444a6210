"""RoboStressBench interop: its layout read as Items, its scoring rules, its report and submission."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from robostress.errors import DataError
from robostress.interop import RsbDataset, evaluate_rsb, exact_iou, point_hit
from robostress.interop.rsb_scoring import box_chance
from robostress.scoring.score import iou as float_iou
from robostress.testing.fake_vllm import FakeVLLMServer, prompt_text
from tests.interop import rsb_data

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robostress.cli.main", "rsb", *args], env=ENV, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture()
def hand(tmp_path: Path) -> Path:
    return rsb_data.write(tmp_path / "hand", rsb_data.HAND)


def test_iou_exactly_095_is_correct_where_floats_fall_short() -> None:
    truth, pred = [0, 0, 280, 100], [0, 0, 266, 100]
    assert exact_iou(pred, truth) == Fraction(95, 100)
    assert float_iou([v / 1000 for v in pred], [v / 1000 for v in truth]) < 0.95  # why exact arithmetic
    assert exact_iou([0, 0, 265, 100], truth) < Fraction(95, 100)
    assert exact_iou([100, 200, 500, 400], [100, 200, 500, 600]) == Fraction(1, 2)
    # the truth is clipped to [0, 1] after /1000: a box reaching past the image equals its visible part
    assert exact_iou([0, 0, 1000, 1000], [-50, 0, 1100, 1000]) == 1
    assert exact_iou([0, 0, 10, 10], [500, 500, 600, 600]) == 0


def test_point_rule_round_w_minus_1_on_mask_borders() -> None:
    m = np.zeros((rsb_data.H, rsb_data.W), bool)
    m[2:6, 3:7] = True  # columns 3..6, rows 2..5
    assert point_hit([300, 500], m) == (True, (3, 4))      # left border column
    assert point_hit([600, 250], m) == (True, (6, 2))      # right border column, top row (round(2.0))
    assert point_hit([700, 500], m) == (False, (7, 4))     # one column right of the border
    assert point_hit([249, 500], m)[0] is False            # round(2.49) = 2
    assert point_hit([251, 500], m)[0] is True             # round(2.51) = 3
    assert point_hit([250, 500], m)[0] is False            # round(2.5) = 2: halves go to even
    assert point_hit([350, 500], m) == (True, (4, 4))      # round(3.5) = 4
    assert point_hit([1000, 1000], np.ones((5, 7), bool)) == (True, (6, 4))  # the last pixel, not past it


def test_point_chance_weights_edge_pixels_by_half() -> None:
    from robostress.interop.rsb_scoring import point_chance

    m = np.zeros((rsb_data.H, rsb_data.W), bool)
    m[2:6, 3:7] = True
    assert point_chance(m) == pytest.approx(0.4 * 0.5)  # x in [0.25, 0.65), y in [1.5/8, 5.5/8)
    assert point_chance(np.ones((3, 4), bool)) == pytest.approx(1.0)
    edge = np.zeros((5, 5), bool)
    edge[:, 0] = True
    assert point_chance(edge) == pytest.approx(0.125)  # x * 4 < 0.5
    g = np.random.default_rng(0).uniform(0, 1000, (20000, 2))
    hits = np.mean([point_hit(p, m)[0] for p in g])
    assert abs(hits - point_chance(m)) < 0.01


def test_dataset_reads_as_items(hand: Path) -> None:
    ds = RsbDataset(hand)
    items = {i.item_id: i for i in ds.items}
    assert len(items) == len(rsb_data.HAND)
    assert (items["mc_trunc"].format, items["mc_trunc"].answer) == ("mc", "C")
    assert (items["mc_trunc"].dimension, items["mc_trunc"].subtype, items["mc_trunc"].severity) == \
        ("viewpoint", "truncated_out_of_frame", 1)
    assert (items["mc_clean"].dimension, items["mc_clean"].severity) == ("none", 0)
    assert items["mc_two"].truth["stress_tags"] == ["L__global_underexposure", "M__dark_absorptive"]
    assert items["mc_two"].ability == "spatial"
    assert "C. blue" in items["mc_trunc"].prompt and "letter" in items["mc_trunc"].prompt
    assert items["box_half"].truth["box"] == [100.0, 200.0, 500.0, 600.0]
    # the oracle's point is the mask's innermost pixel, mapped back by round(x * (w - 1))
    pt = items["pt_border"].truth["point"]
    mask = ds.mask(items["pt_border"].truth["mask"])
    assert point_hit(pt, mask)[0]
    assert ds.dataset_version == "rsb-test-1"


def _run(hand: Path, backend: str, run: str, **kw: object) -> dict:  # type: ignore[type-arg]
    return evaluate_rsb(hand, {"backend": backend, "label": backend, **kw}, hand.parent / run, progress=False)


def test_oracle_end_to_end_scores_everything_and_writes_submission(hand: Path) -> None:
    out = _run(hand, "oracle", "oracle")
    s = out["summary"]
    assert s["overall"]["n"] == 9 and s["overall"]["accuracy"] == 1.0
    assert s["overall"]["bbox"] == {"n": 3, "mean_iou": 1.0, "iou@0.5": 1.0, "iou@0.95": 1.0}
    # a sample counts once in each of its tags and each dimension; untagged ones are 'clean'
    assert {k: v["n"] for k, v in s["per_tag"].items()} == {
        "G__occlusion": 2, "L__global_underexposure": 1, "M__dark_absorptive": 1, "V__small_scale": 3,
        "V__truncated_out_of_frame": 1, "clean": 2}
    assert {k: v["n"] for k, v in s["per_dimension"].items()} == {
        "clean": 2, "geometry": 2, "lighting": 1, "material": 1, "viewpoint": 4}
    sub = json.loads((hand.parent / "oracle" / "submission.json").read_text())
    assert sub["schema_version"] == 1 and sub["dataset_version"] == "rsb-test-1"
    got = {p["sample_id"]: p["parsed_answer"] for p in sub["predictions"]}
    assert list(got) == [r["sample_id"] for r in rsb_data.HAND]
    assert (got["mc_clean"], got["mc_trunc"], got["mc_two"]) == (0, 2, 1)
    assert got["box_half"] == [100, 200, 500, 600]
    assert "| V__small_scale | 3 |" in (hand.parent / "oracle" / "rsb_report.md").read_text()
    again = _run(hand, "oracle", "oracle")  # resumed: nothing asked twice, same numbers
    assert again["summary"]["overall"] == s["overall"]


def test_random_is_deterministic_and_near_chance(tmp_path: Path) -> None:
    samples = [rsb_data.mcq(f"m{i:03d}", [["V__small_scale"], ["L__global_overexposure"]][i % 2], answer=i % 4)
               for i in range(240)] + [rsb_data.bbox("b0", [], [100, 100, 900, 900])]
    root = rsb_data.write(tmp_path / "many", samples)
    a = _run(root, "random", "r1")["summary"]
    b = _run(root, "random", "r2")["summary"]
    assert a == {**b, "label": a["label"]}
    lo, hi = a["overall"]["mcq"]["accuracy"], a["per_tag"]["V__small_scale"]["accuracy_ci95"]
    assert 0.17 < lo < 0.33, lo  # 4 options: chance 0.25 (binomial sd 0.028 at n=240)
    assert hi[0] < 0.25 < hi[1]
    assert (tmp_path / "r1" / "submission.json").read_bytes() == (tmp_path / "r2" / "submission.json").read_bytes()


def test_box_chance_is_the_random_sampler_rate_at_095() -> None:
    from robostress.scoring.chance import box_chance as chance_at_05

    for box in ((0.0, 0.0, 1000.0, 1000.0), (100.0, 100.0, 900.0, 700.0)):
        assert box_chance(box) < chance_at_05(box)  # a stricter threshold, the same sampler
    assert box_chance((400.0, 400.0, 420.0, 420.0)) == 0.0
    assert 0.0 <= box_chance((0.0, 0.0, 1000.0, 1000.0)) < 0.01


def test_scripted_vllm_over_http_scores_the_hand_made_cases(hand: Path, tmp_path: Path) -> None:
    """A real loopback server answers each sample with its scripted reply, through the CLI."""
    def answer(body: dict) -> str:  # type: ignore[type-arg]
        sid = prompt_text(body).split("]")[0].lstrip("[")
        return rsb_data.SCRIPT[sid][0]

    with FakeVLLMServer(answer=answer) as srv:
        r = cli(f"dataset_dir={hand}", "model=vllm", f"model.name={srv.model}", f"model.base_url={srv.url}",
                f"run_dir={tmp_path / 'run'}", "progress=false", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    preds = {json.loads(x)["item_id"]: json.loads(x) for x in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()}
    assert {k: p["correct"] for k, p in preds.items()} == {k: v[1] for k, v in rsb_data.SCRIPT.items()}
    assert preds["box_exact95"]["score"] == 0.95 and preds["box_half"]["details"]["iou@0.5"] is True
    assert preds["pt_border"]["details"]["pixel"] == [3, 4]
    s = json.loads((tmp_path / "run" / "rsb_summary.json").read_text())
    assert s["overall"]["correct"] == sum(v[1] for v in rsb_data.SCRIPT.values())
    assert s["per_tag"]["G__occlusion"]["bbox"]["iou@0.95"] == 0.5
    assert s["per_tag"]["V__small_scale"]["bbox"]["iou@0.5"] == 1.0
    sub = {p["sample_id"]: p["parsed_answer"] for p in
           json.loads((tmp_path / "run" / "submission.json").read_text())["predictions"]}
    assert sub["box_exact95"] == [0, 0, 266, 100] and sub["pt_outside"] == [249, 500] and sub["mc_trunc"] == 1


def test_classical_and_blind_run_end_to_end(hand: Path) -> None:
    for backend in ("classical", "blind"):
        s = _run(hand, backend, backend)["summary"]
        assert s["overall"]["n"] == 9 and s["overall"]["errors"] == 0


def _bad(root: Path, name: str) -> Path:
    """The hand-made dataset with one fault ``name``."""
    samples = [dict(x, record=dict(x["record"])) for x in rsb_data.HAND]
    if name == "escape":
        samples[0]["record_relpath"] = "../outside.json"
    elif name == "escape_image":
        samples[1]["rgb_relpath"] = "/etc/hostname"
    elif name == "answer_index":
        samples[1]["record"]["answer_index"] = 4
    elif name == "gt_type":
        samples[2]["gt_type"] = "polygon"
    elif name == "duplicate":
        samples[3]["sample_id"] = samples[4]["sample_id"]
    elif name == "xyxy":
        samples[3]["record"]["xyxy"] = [0, 0, "wide", 100]
    elif name == "no_mask":
        samples[6]["mask_relpath"] = None
    root = rsb_data.write(root, samples)
    if name == "bad_json":
        with open(root / "manifest.jsonl", "a") as f:
            f.write('{"sample_id": "x", \n')
    elif name == "not_image":
        (root / "images" / "scene0.png").write_bytes(b"not a png")
    elif name == "big_record":
        (root / "records" / "mc_clean.json").write_text(json.dumps({"question": "q" * (1 << 20)}))
    elif name == "no_manifest":
        (root / "manifest.jsonl").unlink()
    elif name == "nan":
        (root / "records" / "box_half.json").write_text('{"question": "q", "xyxy": [0, 0, NaN, 1]}')
    return root


@pytest.mark.parametrize("name,msg", [
    ("escape", "path '../outside.json' leaves the dataset folder"),
    ("escape_image", "path '/etc/hostname' leaves the dataset folder"),
    ("answer_index", "answer_index 4 is not an index of its 4 options"),
    ("gt_type", "gt_type 'polygon' is not one of mcq, bbox, mask"),
    ("duplicate", "sample_id 'box_below95' appears twice"),
    ("xyxy", "xyxy must be a list of 4 numbers"),
    ("no_mask", "mask_relpath must be a non-empty string"),
    ("bad_json", "manifest.jsonl:10: not valid JSON"),
    ("not_image", "scene0.png is not a readable image"),
    ("big_record", "over the limit of 1048576"),
    ("no_manifest", "manifest.jsonl is missing"),
    ("nan", "box_half.json: not valid JSON"),
])
def test_bad_datasets_give_one_clear_error(name: str, msg: str, tmp_path: Path) -> None:
    root = _bad(tmp_path / name, name)
    with pytest.raises(DataError, match=None) as e:
        RsbDataset(root)
    assert msg in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("name", ["escape", "answer_index"])
@pytest.mark.slow
def test_cli_bad_dataset_exits_2_with_one_line(name: str, tmp_path: Path) -> None:
    root = _bad(tmp_path / name, name)
    r = cli(f"dataset_dir={root}", "model=oracle", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("robostress: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert not (tmp_path / "runs").exists()  # nothing written for a refused dataset


@pytest.mark.slow
def test_cli_config_errors(tmp_path: Path, hand: Path) -> None:
    r = cli("model=oracle", cwd=tmp_path)
    assert r.returncode == 2 and "dataset_dir is required" in r.stderr
    r = cli(f"dataset_dir={hand}", "batch_size=0", cwd=tmp_path)
    assert r.returncode == 2 and "batch_size=0 is not allowed" in r.stderr
    r = cli(f"dataset_dir={hand}", "model=oracle", "progress=false", "dataset_version=v2-cli", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "oracle: accuracy 1.000 on 9 samples" in r.stdout + r.stderr
    sub = json.loads((tmp_path / "runs" / "rsb-hand" / "oracle" / "submission.json").read_text())
    assert sub["dataset_version"] == "v2-cli" and len(sub["predictions"]) == 9
    r = subprocess.run([sys.executable, "-m", "robostress.cli.main", "rsb", "--help"], env=ENV, cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "dataset_dir" in r.stdout and "model" in r.stdout


@pytest.mark.slow
def test_prior_and_hf_tiny_llava_answer_the_dataset(hand: Path, tmp_path: Path) -> None:
    """A text-only backend and a real transformers VLM (random weights, built offline) run end to end."""
    pytest.importorskip("transformers")
    from robostress.models.tiny_vlm import build_tiny_llava

    s = _run(hand, "prior", "prior")["summary"]
    assert s["overall"]["n"] == 9 and s["overall"]["errors"] == 0
    path = build_tiny_llava(tmp_path / "llava", seed=0)
    # multiple choice by option log-likelihood (always names an option); boxes and points generated
    out = _run(hand, "hf", "hf", path=str(path), mc_mode="loglik", device="cpu", max_new_tokens=8)
    assert out["summary"]["overall"]["n"] == 9 and out["summary"]["overall"]["errors"] == 0
    assert all(p.parsed is not None for p in out["predictions"] if p.format == "mc")


def test_changed_record_refuses_to_resume_and_symlink_out_is_refused(hand: Path, tmp_path: Path) -> None:
    _run(hand, "oracle", "resume")
    rec = hand / "records" / "mc_clean.json"
    rec.write_text(json.dumps({**json.loads(rec.read_text()), "answer_index": 1}))
    with pytest.raises(DataError, match="holds a different run"):
        _run(hand, "oracle", "resume")
    outside = tmp_path / "secret.json"
    outside.write_text(json.dumps({"question": "q", "options": ["a", "b"], "answer_index": 0}))
    rec.unlink()
    rec.symlink_to(outside)
    with pytest.raises(DataError, match="leaves the dataset folder"):
        RsbDataset(hand)


def test_retry_failed_asks_only_the_failed_samples_again(hand: Path, tmp_path: Path) -> None:
    def answer(body: dict) -> str:  # type: ignore[type-arg]
        return rsb_data.SCRIPT[prompt_text(body).split("]")[0].lstrip("[")][0]

    outage = [True]
    with FakeVLLMServer(answer=answer, faults=lambda body, i: "500" if outage[0] and "[mc_" in prompt_text(body)
                        else None) as srv:
        cfg = {"backend": "vllm", "label": "fake", "max_retries": 0, "name": srv.model, "base_url": srv.url}
        first = evaluate_rsb(hand, cfg, tmp_path / "heal", progress=False)
        assert first["summary"]["overall"]["errors"] == 3
        outage[0] = False
        asked = len(srv.requests)
        healed = evaluate_rsb(hand, cfg, tmp_path / "heal", progress=False, retry_failed=True)
        assert len(srv.requests) - asked == 3  # only the three failed multiple-choice samples
    assert healed["summary"]["overall"]["errors"] == 0
    assert healed["summary"]["overall"]["correct"] == sum(v[1] for v in rsb_data.SCRIPT.values())
