"""`robostress rsb` on datasets built in RoboStressBench's documented layout (records under
``annotation``, JPEG and PNG masks): reading, one-line refusals, end to end through the CLI and a
real loopback server, RoboStressBench's output files, strict and lenient parsing side by side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from robostress.errors import DataError
from robostress.interop import RsbDataset, evaluate_rsb
from robostress.testing.fake_vllm import FakeVLLMServer, prompt_text
from tests.interop import rsb_data
from tests.interop.test_rsb_rules import GROUP_KEYS

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robostress.cli.main", "rsb", *args], env=ENV, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture()
def hand(tmp_path: Path) -> Path:
    return rsb_data.write(tmp_path / "hand", rsb_data.HAND)


def _run(root: Path, backend: str, run: str, **kw: Any) -> dict[str, Any]:
    parser = kw.pop("parser", "lenient")
    return evaluate_rsb(root, {"backend": backend, "label": backend, **kw}, root.parent / run, progress=False,
                        parser=parser)


def test_dataset_reads_as_items(hand: Path) -> None:
    ds = RsbDataset(hand)
    items = {i.item_id: i for i in ds.items}
    assert list(items) == [s["sample_id"] for s in rsb_data.HAND]
    it = items["mc_trunc"]
    assert (it.format, it.answer, it.dimension, it.subtype, it.severity) == \
        ("mc", "C", "viewpoint", "truncated_out_of_frame", 1)
    assert it.prompt == ("[mc_trunc] What colour is the block?\n\nA. red\nB. green\nC. blue\nD. yellow\n\n"
                         "Answer with exactly one uppercase letter only. Do not output anything else.")
    assert items["box_half"].prompt == "[box_half] Give the box of the block as [x1, y1, x2, y2] in permille."
    assert (items["mc_clean"].dimension, items["mc_clean"].severity) == ("none", 0)
    assert (items["pt_outside"].dimension, items["pt_outside"].subtype) == ("geometry", "nonrigid_deformation")
    assert (items["mc_two"].dimension, items["mc_two"].subtype) == ("material", "dark_absorptive")  # G, M, V, L order
    assert items["box_half"].truth["box"] == [100.0, 200.0, 500.0, 600.0]
    s = ds.by_id["box_half"]
    assert s.ground_truth == {"type": "bbox", "bbox": {"format": "xyxy", "space": "permille",
                                                       "box": [100.0, 200.0, 500.0, 600.0]}}
    assert (s.dataset, s.subcategory, s.record_relpath) == ("02", "01", "02/01/records/box_half.json")
    assert items["pt_border"].truth["point"] == [400.0, 375.0]  # innermost pixel (4, 3) of columns 3-6, rows 2-5


def test_manifest_and_annotation_fallbacks_and_ignored_fields(tmp_path: Path) -> None:
    """stress_tags and mask_relpath of the manifest are ignored; rgb / gt_type fall back to it;
    ids fall back to the record's annotation, then provenance, then the record file's name."""
    root = rsb_data.write(tmp_path / "fb", [rsb_data.mcq("a", {"V": ["small_scale"]})], metadata=False)
    row = json.loads((root / "manifest.jsonl").read_text())
    row.update(stress_tags=["L__global_overexposure"], mask_relpath="nowhere.png", sample_id="",
               dataset=None, task="")
    rec = json.loads((root / row["record_relpath"]).read_text())
    rec["annotation"].pop("rgb")
    rec["annotation"]["gt"].pop("type")
    rec["annotation"]["provenance"] = {"dataset": "07", "subcategory": "x"}
    rec["sample_id"] = "ignored"
    (root / row["record_relpath"]).write_text(json.dumps(rec))
    (root / "manifest.jsonl").write_text("\n" + json.dumps(row) + "\n\n")
    s = RsbDataset(root).samples[0]
    assert (s.sample_id, s.dataset, s.subcategory, s.task, s.gt_type) == ("a", "07", "01", "recognition_mcq", "mcq")
    assert s.stress == {"V": ["small_scale"]} and s.image_relpath == row["rgb_relpath"]
    assert not (root / "metadata.jsonl").exists()


def test_oracle_end_to_end_writes_rsb_files(hand: Path) -> None:
    out = _run(hand, "oracle", "oracle")
    run = hand.parent / "oracle"
    s = json.loads((run / "summary.json").read_text())
    assert list(s) == ["overall_statistics", "per_gt_type_statistics", "per_dataset_statistics",
                       "per_1st_level_stress", "per_2nd_level_stress", "model_name", "worker_gpus", "dry_run",
                       "timing", "profiling"]
    o = s["overall_statistics"]
    assert o["total_acc"] == 1.0 and o["total_questions"] == 9 and o["bbox_mean_iou"] == 1.0
    assert list(s["timing"]) == ["time_to_first_result_seconds", "total_wall_time_seconds"]
    assert len(s["per_2nd_level_stress"]) == 17  # the 16 canonical ones and "V tiny_text"
    assert s["per_2nd_level_stress"]["G occlusion"]["stress_bucket_size"] == 3  # a duplicate tag counts twice
    assert s["per_1st_level_stress"]["G"]["stress_bucket_size"] == 3
    assert s["per_1st_level_stress"]["L"]["stress_bucket_size"] == 1  # "L": [] does not count
    sub = json.loads((run / "submission.json").read_text())
    assert list(sub) == ["schema_version", "benchmark", "dataset_version", "model_name", "predictions"]
    assert (sub["schema_version"], sub["benchmark"], sub["dataset_version"], sub["model_name"]) == \
        ("1.0", "RoboStressBench", "1.0", "oracle")
    got = {p["sample_id"]: p["parsed_answer"] for p in sub["predictions"]}
    assert list(got) == [r["sample_id"] for r in rsb_data.HAND]
    assert got["mc_trunc"] == {"kind": "mcq", "answer_index": 2, "answer": "C"}
    assert got["box_half"] == {"kind": "bbox", "box": [100.0, 200.0, 500.0, 600.0], "space": "permille"}
    assert got["pt_border"] == {"kind": "mask", "point": [400.0, 375.0], "space": "permille"}
    preds = json.loads((run / "predictions.json").read_text())
    assert list(preds[0]) == ["question_id", "sample_id", "dataset", "subcategory", "task", "gt_type", "stress",
                              "image_path", "record_path", "prompt", "raw_response", "parsed_answer",
                              "ground_truth", "metrics", "model_name", "error", "rectified_image_path"]
    assert preds[3]["metrics"] == {"mcq_correct": None, "mask_correct": None, "bbox_iou": 1.0}
    assert (run / "summary.json").read_text().startswith('{\n  "overall_statistics": {\n    "total_questions": 9,')
    report = (run / "rsb_report.md").read_text()
    assert "total_acc lenient | total_acc strict" in report and "| V small_scale | 2 |" in report
    again = _run(hand, "oracle", "oracle")  # resumed: nothing asked twice, same numbers
    assert again["summary"]["overall_statistics"] == out["summary"]["overall_statistics"]


def test_random_is_deterministic_and_near_chance(tmp_path: Path) -> None:
    samples = [rsb_data.mcq(f"m{i:03d}", {"V": ["small_scale"]} if i % 2 else {}, answer=i % 4) for i in range(240)]
    samples += [rsb_data.bbox("b0", {}, [100, 100, 900, 900])]
    root = rsb_data.write(tmp_path / "many", samples)
    a = _run(root, "random", "r1")["summary"]
    b = _run(root, "random", "r2")["summary"]
    acc = a["overall_statistics"]["mcq_accuracy"]
    assert 0.17 < acc < 0.33, acc  # 4 options: chance 0.25 (binomial sd 0.028 at n=240)
    assert a["per_gt_type_statistics"] == b["per_gt_type_statistics"]
    assert (tmp_path / "r1" / "submission.json").read_bytes() == (tmp_path / "r2" / "submission.json").read_bytes()


def _script(body: dict[str, Any]) -> str:
    return rsb_data.SCRIPT[prompt_text(body).split("]")[0].lstrip("[")][0]


@pytest.mark.slow  # two CLI runs against a scripted server (about 25 s): full suite only
def test_scripted_vllm_over_http_through_the_cli_both_parsers(hand: Path, tmp_path: Path) -> None:
    """A real loopback server answers each sample with its scripted reply; lenient (default) and
    strict runs score it, and each report shows both."""
    with FakeVLLMServer(answer=_script) as srv:
        # free text, as RoboStressBench generates it (robostress's vllm constrains choices by default)
        model = ["model=vllm", f"model.name={srv.model}", f"model.base_url={srv.url}",
                 "+model.structured_outputs=false", "progress=false"]
        r = cli(f"dataset_dir={hand}", *model, f"run_dir={tmp_path / 'run'}", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        rs = cli(f"dataset_dir={hand}", *model, "rsb.parser=strict", cwd=tmp_path)
        assert rs.returncode == 0, rs.stderr
    preds = {p["sample_id"]: p for p in json.loads((tmp_path / "run" / "predictions.json").read_text())}
    from robostress.interop.rsb_scoring import sample_score

    assert {k: sample_score(p["gt_type"], p["metrics"]) == 1.0 for k, p in preds.items()} == \
        {k: v[1] for k, v in rsb_data.SCRIPT.items()}
    assert preds["box_below95"]["metrics"]["bbox_iou"] == 0.9499999999999998
    assert preds["box_exact95"]["metrics"]["bbox_iou"] == 0.95
    assert preds["box_half"]["metrics"]["bbox_iou"] == 0.4999999999999999  # 1/2 exactly; float64: not >= 0.5
    assert preds["mc_trunc"]["raw_response"] == "The answer is B"
    s = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert s["overall_statistics"]["total_acc"] == 4 / 9
    assert s["per_2nd_level_stress"]["G occlusion"]["total_acc"] == 1 / 3  # exact95 once, below95 twice
    assert s["per_gt_type_statistics"]["bbox"]["bbox_iou_ge_0_5_ratio"] == 2 / 3
    log = r.stdout + r.stderr
    assert "total_acc 0.4444 on 9 samples" in log and "strict (robostress's)" in log
    strict_dir = next((tmp_path / "runs" / "rsb-hand").iterdir())
    assert strict_dir.name.endswith("-strict")
    ss = json.loads((strict_dir / "summary.json").read_text())
    # the strict parser refuses "(500, 600, 100, 400)" (reversed corners): unparsed, IoU 0
    assert ss["overall_statistics"]["unparsed_by_gt_type"]["bbox"] == 1
    assert "**strict** parser" in (strict_dir / "rsb_report.md").read_text()


def test_jpeg_masks_are_scored_by_their_decoded_luma(tmp_path: Path) -> None:
    """A JPEG mask's ringing makes faint pixels outside the block > 0: RoboStressBench counts them."""
    big = np.zeros((40, 60), np.uint8)
    big[10:30, 20:40] = 255
    root = rsb_data.write(tmp_path / "jpg", [rsb_data.pointing("j", {"M": ["transparent"]}, big, ext="jpg")])
    decoded = np.asarray(Image.open(next(root.rglob("j_mask.jpg"))).convert("L"))
    ds = RsbDataset(root)
    assert np.array_equal(ds.mask(ds.items[0].truth["mask"]), decoded)
    out = _run(root, "oracle", "o")
    assert out["summary"]["overall_statistics"]["mask_accuracy"] == 1.0
    assert ds.samples[0].ground_truth["mask"]["encoding"] == "jpg/thresholded_mask"


def test_classical_blind_and_prior_run_end_to_end(hand: Path) -> None:
    for backend in ("classical", "blind", "prior"):
        s = _run(hand, backend, backend)["summary"]["overall_statistics"]
        assert s["total_questions"] == 9 and s["error_count"] == 0


def _bad(root: Path, name: str) -> Path:
    """The hand-made dataset with one fault ``name``."""
    samples = [dict(x) for x in rsb_data.HAND]
    if name == "escape":
        samples[0]["record_relpath"] = "../outside.json"
    elif name == "absolute":
        samples[1]["rgb"] = "/etc/hostname"
    elif name == "answer_index":
        samples[1]["gt"] = {"type": "mcq", "mcq": {"options": ["a", "b"], "answer_index": 4}}
    elif name == "gt_type":
        samples[2]["gt"] = {"type": "polygon"}
    elif name == "duplicate":
        samples[3]["sample_id"] = samples[4]["sample_id"]
        samples[3]["record_relpath"] = "02/01/records/dup.json"
    elif name == "box":
        samples[3]["gt"] = {"type": "bbox", "bbox": {"box": [0, 0, "wide", 100]}}
    elif name == "no_annotation":
        samples[0]["record"] = {"sample_id": "mc_clean", "question": "flat layout"}
    elif name == "no_instruction":
        samples[0]["instruction"] = "   "
    elif name == "mask_escape":
        samples[6] = dict(samples[6], annotation_extra={"gt": {"type": "mask", "mask": {"path": "../../m.png"}}})
    root = rsb_data.write(root, samples)
    if name == "bad_json":
        with open(root / "manifest.jsonl", "a") as f:
            f.write('{"sample_id": "x", \n')
    elif name == "not_image":
        (root / "01/01/media/rgb/000001_rgb.jpg").write_bytes(b"not a jpeg")
    elif name == "big_record":
        (root / "01/01/records/mc_clean.json").write_text(json.dumps({"annotation": {"instruction": "q" * (1 << 20)}}))
    elif name == "no_manifest":
        (root / "manifest.jsonl").unlink()
    elif name == "nan":
        (root / "02/01/records/box_half.json").write_text('{"annotation": {"instruction": "q", "gt": NaN}}')
    return root


@pytest.mark.parametrize("name,msg", [
    ("escape", "record_relpath '../outside.json' leaves the dataset folder"),
    ("absolute", "annotation.rgb '/etc/hostname' leaves the dataset folder"),
    ("answer_index", "(record 01/01/records/mc_trunc.json): gt.mcq.answer_index 4 is not an index of its 2 options"),
    ("gt_type", "mc_two.json): unsupported gt.type 'polygon'"),
    ("duplicate", "sample_id 'box_below95' appears twice"),
    ("box", "box_exact95.json): gt.bbox.box must be a list of four numbers"),
    ("no_annotation", "mc_clean.json): the record is missing its annotation object"),
    ("no_instruction", "annotation.instruction must be a non-empty string"),
    ("mask_escape", "pt_border.json): gt.mask.path '../../m.png' leaves the dataset folder"),
    ("bad_json", "manifest.jsonl:10: not valid JSON"),
    ("not_image", "000001_rgb.jpg is not a readable image"),
    ("big_record", "over the limit of 1048576"),
    ("no_manifest", "manifest.jsonl is missing"),
    ("nan", "box_half.json): not valid JSON"),
])
def test_bad_datasets_give_one_clear_error(name: str, msg: str, tmp_path: Path) -> None:
    root = _bad(tmp_path / name, name)
    with pytest.raises(DataError) as e:
        RsbDataset(root)
    assert msg in str(e.value) and "\n" not in str(e.value), str(e.value)


@pytest.mark.parametrize("name", ["escape", "answer_index"])
def test_cli_bad_dataset_exits_2_with_one_line(name: str, tmp_path: Path) -> None:
    root = _bad(tmp_path / name, name)
    r = cli(f"dataset_dir={root}", "model=oracle", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("robostress: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "manifest.jsonl:" in r.stderr and "Traceback" not in r.stdout + r.stderr
    assert not (tmp_path / "runs").exists()  # nothing written for a refused dataset


def test_cli_config_errors(tmp_path: Path, hand: Path) -> None:
    r = cli("model=oracle", cwd=tmp_path)
    assert r.returncode == 2 and "dataset_dir is required" in r.stderr
    r = cli(f"dataset_dir={hand}", "batch_size=0", cwd=tmp_path)
    assert r.returncode == 2 and "batch_size=0 is not allowed" in r.stderr
    r = cli(f"dataset_dir={hand}", "model=oracle", "rsb.parser=loose", cwd=tmp_path)
    assert r.returncode == 2 and "loose" in r.stderr
    r = cli(f"dataset_dir={hand}", "model=oracle", "progress=false", "dataset_version=v2-cli", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "oracle: total_acc 1.0000 on 9 samples" in r.stdout + r.stderr
    sub = json.loads((tmp_path / "runs" / "rsb-hand" / "oracle" / "submission.json").read_text())
    assert sub["dataset_version"] == "v2-cli" and len(sub["predictions"]) == 9
    r = subprocess.run([sys.executable, "-m", "robostress.cli.main", "rsb", "--help"], env=ENV, cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "dataset_dir" in r.stdout and "rsb.parser" in r.stdout


def test_changed_record_refuses_to_resume_and_symlink_out_is_refused(hand: Path, tmp_path: Path) -> None:
    _run(hand, "oracle", "resume")
    rec = hand / "01/01/records/mc_clean.json"
    data = json.loads(rec.read_text())
    data["annotation"]["gt"]["mcq"]["answer_index"] = 1
    rec.write_text(json.dumps(data))
    with pytest.raises(DataError, match="holds a different run"):
        _run(hand, "oracle", "resume")
    with pytest.raises(DataError, match="holds a different run"):  # another parser is another run
        _run(hand, "oracle", "resume", parser="strict")
    outside = tmp_path / "secret.json"
    outside.write_text(json.dumps(data))
    rec.unlink()
    rec.symlink_to(outside)
    with pytest.raises(DataError, match="leaves the dataset folder"):
        RsbDataset(hand)


def test_retry_failed_asks_only_the_failed_samples_again(hand: Path, tmp_path: Path) -> None:
    outage = [True]
    with FakeVLLMServer(answer=_script, faults=lambda body, i: "500" if outage[0] and "[mc_" in prompt_text(body)
                        else None) as srv:
        cfg = {"backend": "vllm", "label": "fake", "max_retries": 0, "name": srv.model, "base_url": srv.url,
               "structured_outputs": False}
        first = evaluate_rsb(hand, cfg, tmp_path / "heal", progress=False)
        o = first["summary"]["overall_statistics"]
        assert (o["error_count"], o["unparsed_by_gt_type"]["mcq"]) == (3, 3)  # an error is also unparsed
        sub = json.loads((tmp_path / "heal" / "submission.json").read_text())
        assert sub["predictions"][0] == {"sample_id": "mc_clean", "parsed_answer": None}
        recs = json.loads((tmp_path / "heal" / "predictions.json").read_text())
        assert recs[0]["raw_response"] is None and recs[0]["error"]
        outage[0] = False
        asked = len(srv.requests)
        healed = evaluate_rsb(hand, cfg, tmp_path / "heal", progress=False, retry_failed=True)
        assert len(srv.requests) - asked == 3  # only the three failed multiple-choice samples
    assert healed["summary"]["overall_statistics"]["error_count"] == 0
    assert healed["summary"]["overall_statistics"]["total_acc"] == 4 / 9
    assert list(healed["summary"]["per_gt_type_statistics"]["mcq"]) == GROUP_KEYS


@pytest.mark.slow
def test_hf_tiny_llava_answers_the_dataset(hand: Path, tmp_path: Path) -> None:
    """A real transformers VLM (random weights, built offline) runs the RSB dataset end to end:
    multiple choice by option log-likelihood (always names an option), boxes and points generated."""
    pytest.importorskip("transformers")
    from robostress.models.tiny_vlm import build_tiny_llava

    path = build_tiny_llava(tmp_path / "llava", seed=0)
    out = _run(hand, "hf", "hf", path=str(path), mc_mode="loglik", device="cpu", max_new_tokens=8)
    s = out["summary"]["overall_statistics"]
    assert s["total_questions"] == 9 and s["error_count"] == 0
    assert all(p.parsed is not None for p in out["predictions"] if p.format == "mc")
