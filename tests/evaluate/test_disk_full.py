"""A full disk or a read-only folder during eval: one message, no torn line, the rerun resumes."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from robostress.benchmark.load import Benchmark
from robostress.errors import DataError
from robostress.evaluate.evaluate import evaluate
from robostress.metrics.runs import load_predictions

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
ORACLE = {"backend": "oracle", "label": "oracle"}


def can_mount() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(["unshare", "-m", "true"]).returncode == 0


def assert_exactly_once(run: Path, bench: Benchmark) -> None:
    data = (run / "predictions.jsonl").read_bytes()
    assert data.endswith(b"\n")
    ids = [p.item_id for p in load_predictions(run / "predictions.jsonl")]
    assert sorted(ids) == sorted(i.item_id for i in bench.items) and len(ids) == len(set(ids))


def test_enospc_injected_mid_append_keeps_whole_lines_and_resumes(tiny_bench: Benchmark, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The second batch's write stops half way, then the disk is full: the half line is cut away."""
    run = tmp_path / "run"
    real = os.write
    calls = {"n": 0}

    def write(fd: int, data: bytes) -> int:
        if not os.readlink(f"/proc/self/fd/{fd}").endswith("predictions.jsonl"):
            return real(fd, data)
        calls["n"] += 1
        if calls["n"] == 2:
            return real(fd, bytes(data)[: len(data) // 2])  # a short write, as the disk fills
        if calls["n"] >= 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(os, "write", write)
    with pytest.raises(DataError, match=r"No space left on device; the 50 predictions written before are kept"):
        evaluate(tiny_bench.root, ORACLE, run, batch_size=50, progress=False, report=False)
    monkeypatch.setattr(os, "write", real)
    kept = (run / "predictions.jsonl").read_bytes()
    assert kept.count(b"\n") == 50 and kept.endswith(b"\n")  # no torn line
    assert not (run / ".lock").exists()
    out = evaluate(tiny_bench.root, ORACLE, run, batch_size=50, progress=False, report=False)
    assert len(out["predictions"]) == len(tiny_bench.items)
    assert_exactly_once(run, tiny_bench)


@pytest.mark.skipif(not can_mount(), reason="needs unshare -m to mount a size-limited tmpfs")
@pytest.mark.slow
def test_real_full_tmpfs_during_eval_then_rerun_completes(tiny_bench: Benchmark, tmp_path: Path) -> None:
    """A 96 KiB tmpfs fills during eval (and its report); remounted larger, the rerun completes."""
    mnt, keep = tmp_path / "mnt", tmp_path / "keep"
    mnt.mkdir()
    keep.mkdir()
    ev = (f"{sys.executable} -m robostress.cli.main eval benchmark_dir={tiny_bench.root} model=oracle "
          f"run_dir={mnt}/run batch_size=64 progress=false")
    script = "; ".join([
        f"mount -t tmpfs -o size=96k tmpfs {mnt}", f"{ev} 2> {keep}/err1; echo $? > {keep}/rc1",
        f"cp {mnt}/run/predictions.jsonl {keep}/after_full.jsonl",
        f"mount -o remount,ro {mnt}", f"{ev} 2> {keep}/err_ro; echo $? > {keep}/rc_ro",
        f"mount -o remount,rw,size=16m {mnt}", f"{ev} 2> {keep}/err2; echo $? > {keep}/rc2",
        f"cp -r {mnt}/run {keep}/run"])
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], env=ENV, cwd=tmp_path, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    err1, err_ro = (keep / "err1").read_text(), (keep / "err_ro").read_text()
    assert (keep / "rc1").read_text().strip() == "2" and "No space left on device" in err1, err1
    assert "rerun to resume" in err1 and "Traceback" not in err1
    assert (keep / "rc_ro").read_text().strip() == "2" and "Read-only file system" in err_ro, err_ro
    assert "Traceback" not in err_ro
    partial = (keep / "after_full.jsonl").read_bytes()
    assert partial.endswith(b"\n") and 0 < partial.count(b"\n") < len(tiny_bench.items)  # whole lines only
    assert (keep / "rc2").read_text().strip() == "0", (keep / "err2").read_text()
    assert_exactly_once(keep / "run", tiny_bench)
    assert (keep / "run" / "report.html").stat().st_size > 0
