"""`robostress export format=rsb`: the tiny benchmark written in RoboStressBench's layout reads back
through `robostress rsb` with the same truth per item, `oracle` at 100 % and `random` at chance."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from robostress.benchmark.load import Benchmark
from robostress.errors import ConfigError
from robostress.interop import RsbDataset, evaluate_rsb, export_rsb
from robostress.interop.rsb_export import binary_mask
from robostress.interop.rsb_taxonomy import to_robostress

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def exported(tiny_bench: Benchmark, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rsb") / "tiny_rsb"
    counts = export_rsb(tiny_bench.root, out)
    assert counts["samples"] == len(tiny_bench.items) and counts["frames"] == len({i.image for i in tiny_bench.items})
    return out


def test_export_has_rsb_layout_and_reads_back_with_the_same_truth(tiny_bench: Benchmark, exported: Path) -> None:
    rows = [json.loads(x) for x in (exported / "manifest.jsonl").read_text().splitlines()]
    meta = [json.loads(x) for x in (exported / "metadata.jsonl").read_text().splitlines()]
    assert [r["sample_id"] for r in rows] == [f"{n:06d}" for n in range(1, len(rows) + 1)]
    assert all(r["record_relpath"].startswith("01/01/records/") and r["rgb_relpath"].startswith("01/01/media/rgb/")
               for r in rows)
    ds = RsbDataset(exported)
    items = {i.item_id: i for i in tiny_bench.items}
    assert len(ds.samples) == len(items)
    formats = set()
    for s, m in zip(ds.samples, meta, strict=True):
        it = items[m["item_id"]]
        formats.add(it.format)
        rec = json.loads((exported / s.record_relpath).read_text())
        assert set(rec) == {"sample_id", "status", "annotation", "robostress"}
        assert rec["robostress"]["item_id"] == it.item_id
        if it.severity == 0:  # clean items are untagged
            assert s.stress == {} and rows[int(s.sample_id) - 1]["stress_tags"] == []
        else:  # one tag per stressed item, mapped back to the item's sub-type
            ((letter, names),) = s.stress.items()
            assert len(names) == 1 and to_robostress(letter, names[0]) == (it.dimension, it.subtype)
            assert rows[int(s.sample_id) - 1]["stress_tags"] == [f"{letter}__{names[0]}"]
        assert (exported / s.image_relpath).read_bytes() == tiny_bench.path(it.image).read_bytes()
        if it.format == "mc":
            assert s.gt_type == "mcq" and s.options == it.options and chr(65 + s.answer_index) == it.answer
            assert s.instruction == it.question
        elif it.format == "box":
            assert s.gt_type == "bbox" and s.ground_truth["bbox"]["box"] == [float(v) for v in it.truth["box"]]
            assert s.ground_truth["bbox"]["space"] == "permille" and s.instruction == it.prompt
        else:
            assert s.gt_type == "mask" and s.mask_relpath and s.mask_relpath.endswith("_mask.png")
            assert np.array_equal(ds.mask(s.mask_relpath) > 0, binary_mask(tiny_bench, it) > 0)
    assert formats == {"mc", "box", "point"}


def test_round_trip_oracle_is_perfect_and_random_at_chance(exported: Path, tmp_path: Path) -> None:
    o = evaluate_rsb(exported, {"backend": "oracle", "label": "oracle"}, tmp_path / "oracle", progress=False)
    st = o["summary"]["overall_statistics"]
    assert st["total_acc"] == 1.0 and st["unparsed_count"] == 0
    assert o["summaries"]["strict"]["overall_statistics"]["total_acc"] == 1.0
    r = evaluate_rsb(exported, {"backend": "random", "label": "random"}, tmp_path / "random", progress=False)
    preds = r["predictions"]
    expected = sum(p.chance for p in preds)
    sd = math.sqrt(sum(p.chance * (1 - p.chance) for p in preds))
    got = sum(p.correct for p in preds)
    assert abs(got - expected) <= 3 * sd + 1, (got, expected, sd)
    assert r["summary"]["overall_statistics"]["total_acc"] < 0.5


@pytest.mark.slow  # an export and a CLI run (about 20 s): full suite only
def test_jpeg_masks_export_and_cli(tiny_bench: Benchmark, tmp_path: Path) -> None:
    out = tmp_path / "jpg"
    export_rsb(tiny_bench.root, out, mask_format="jpg")
    ds = RsbDataset(out)
    assert any(s.mask_relpath and s.mask_relpath.endswith(".jpg") for s in ds.samples)
    o = evaluate_rsb(out, {"backend": "oracle", "label": "oracle"}, tmp_path / "o", progress=False)
    assert o["summary"]["overall_statistics"]["total_acc"] == 1.0
    with pytest.raises(ConfigError, match="is not empty"):
        export_rsb(tiny_bench.root, out)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "robostress.cli.main", "export", f"benchmark_dir={tiny_bench.root}",
                        f"out_dir={tmp_path / 'cli'}", "format=rsb"], env=env, cwd=tmp_path, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "in RoboStressBench's layout" in r.stdout + r.stderr
    assert (tmp_path / "cli" / "manifest.jsonl").read_bytes() == \
        (tmp_path / "jpg" / "manifest.jsonl").read_bytes().replace(b"_mask.jpg", b"_mask.png")
