"""`robostress merge runs=[...]`: three eval shard runs merge into the run one process writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from robostress.benchmark.load import Benchmark
from robostress.evaluate.evaluate import evaluate
from robostress.evaluate.runner import shard_items

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
RANDOM = {"backend": "random", "label": "random", "seed": 0}


def merge(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`robostress merge ...` as a real subprocess."""
    return subprocess.run([sys.executable, "-m", "robostress.cli.main", "merge", *args], env=ENV, cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def runs(tiny_bench: Benchmark, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded random baseline on the tiny benchmark: one process (``one``) and 3 shards (``r0..r2``)."""
    root = tmp_path_factory.mktemp("runs")
    kw = {"progress": False, "verify_cache": root / "vc", "batch_size": 64}
    evaluate(tiny_bench.root, RANDOM, root / "one", **kw)  # type: ignore[arg-type]
    for k in range(3):
        evaluate(tiny_bench.root, RANDOM, root / f"r{k}", shard=k, num_shards=3, report=False, **kw)  # type: ignore[arg-type]
    return root


def _preds(run: Path) -> list[dict[str, object]]:
    """Predictions without their latency (timing differs between any two runs)."""
    return [{k: v for k, v in json.loads(ln).items() if k != "latency_s"}
            for ln in (run / "predictions.jsonl").read_text().splitlines()]


def test_merged_runs_equal_one_process(runs: Path, tiny_bench: Benchmark) -> None:
    """Same predictions (as a set and in order), identical summary.json, the unsharded fingerprint."""
    r = merge("runs=[r2,r0,r1]", "out_dir=merged", cwd=runs)
    assert r.returncode == 0, r.stderr
    one, merged = _preds(runs / "one"), _preds(runs / "merged")
    assert len(one) == len(tiny_bench.items) > 100
    assert sorted(map(json.dumps, one)) == sorted(map(json.dumps, merged)) and one == merged
    assert 0 < sum(bool(p["correct"]) for p in one) < len(one)  # a baseline that is sometimes right
    assert (runs / "one" / "summary.json").read_bytes() == (runs / "merged" / "summary.json").read_bytes()
    meta = json.loads((runs / "merged" / "run.json").read_text())
    assert meta["fingerprint"] == json.loads((runs / "one" / "run.json").read_text())["fingerprint"]
    assert meta["shard"] == [0, 1] and [m["shard"] for m in meta["merged_from"]] == [[0, 3], [1, 3], [2, 3]]
    out = evaluate(tiny_bench.root, RANDOM, runs / "merged", progress=False, report=False,
                   verify_cache=runs / "vc")  # the unsharded run resumes it with nothing to do
    assert len(out["predictions"]) == len(one)


def test_shards_are_balanced_blocks_in_benchmark_order(runs: Path, tiny_bench: Benchmark) -> None:
    """Shard k holds the k-th contiguous block of items: sizes within one item (so within 10 %),
    and a frame's items stay in one shard except where a block boundary cuts a frame."""
    shards = [_preds(runs / f"r{k}") for k in range(3)]
    sizes = [len(s) for s in shards]
    assert sum(sizes) == len(tiny_bench.items) and max(sizes) - min(sizes) <= 1 and max(sizes) <= 1.1 * min(sizes)
    assert [p["item_id"] for s in shards for p in s] == [i.item_id for i in tiny_bench.items]
    frames = [{str(p["frame_id"]) for p in s} for s in shards]
    assert sum(len(f) for f in frames) <= len({i.frame_id for i in tiny_bench.items}) + 2


def test_shard_items_partition() -> None:
    """Every item in exactly one shard, in order, sizes within one, for any count and shard number."""
    for count in (0, 1, 2, 7, 100, 1035):
        for n in (1, 2, 3, 8):
            blocks = [shard_items(list(range(count)), k, n) for k in range(n)]
            assert [x for b in blocks for x in b] == list(range(count))
            assert max(map(len, blocks)) - min(map(len, blocks)) <= 1


def test_refuses_runs_that_are_not_one_whole_evaluation(runs: Path, tiny_bench: Benchmark) -> None:
    """Mixed fingerprints, a missing, duplicated or unfinished shard: one line, exit 2, nothing written."""
    other = {**RANDOM, "seed": 1}
    evaluate(tiny_bench.root, other, runs / "seed1", shard=1, num_shards=3, report=False, progress=False,
             verify_cache=runs / "vc")
    evaluate(tiny_bench.root, RANDOM, runs / "half", shard=1, num_shards=2, report=False, progress=False,
             verify_cache=runs / "vc")
    evaluate(tiny_bench.root, RANDOM, runs / "short", shard=1, num_shards=3, limit=5, report=False,
             progress=False, verify_cache=runs / "vc")
    edited = runs / "edited"
    shutil.copytree(runs / "r1", edited, dirs_exist_ok=True)
    meta = json.loads((edited / "run.json").read_text())
    meta["fingerprint"] = "0" * 16
    (edited / "run.json").write_text(json.dumps(meta))
    cases = [
        (["runs=[r0,r1]"], "shard 2 of 3 is missing"),
        (["runs=[r0,r1,r1,r2]"], "shard 1 of 3 is given twice"),
        (["runs=[r0,seed1,r2]"], "mixed fingerprints"),
        (["runs=[r0,half,r2]"], "split the items differently"),
        (["runs=[r0,short,r2]"], "is incomplete"),
        (["runs=[r0,edited,r2]"], "is not that of its benchmark"),
        (["runs=[r0,vc,r2]"], "is not a run folder (no run.json)"),
        (["runs=[r0,r1,r2]", f"benchmark_dir={runs}"], "manifest.json is missing"),
    ]
    for args, msg in cases:
        r = merge(*args, "out_dir=bad", cwd=runs)
        assert r.returncode == 2 and msg in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
        assert not (runs / "bad").exists()
