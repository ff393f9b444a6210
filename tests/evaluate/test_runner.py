"""The runner: resume by fingerprint, refusal to mix, a killed run ends with every item once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from robostress.benchmark.load import Benchmark
from robostress.errors import DataError
from robostress.evaluate.runner import Runner
from robostress.metrics.runs import load_predictions
from robostress.models.base import Model, Request, Response, create_model


class Flaky(Model):
    """Answers like the oracle but raises after ``fail_after`` batches (a crash mid-run)."""

    name = "flaky"

    def __init__(self, fail_after: int) -> None:
        self.inner, self.left = create_model("oracle"), fail_after

    def generate(self, requests: list[Request]) -> list[Response]:  # type: ignore[override]
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        return self.inner.generate(requests)

    def describe(self) -> dict:  # type: ignore[type-arg]
        return {"backend": "oracle", "seed": 0, "version": "b1"}  # same fingerprint as the oracle


def test_interrupted_run_resumes_without_duplicates(tiny_bench: Benchmark, tmp_path: Path) -> None:
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        Runner(tiny_bench, Flaky(3), run, label="oracle", batch_size=10).run(progress=False)
    assert len(load_predictions(run / "predictions.jsonl")) == 30
    r = Runner(tiny_bench, create_model("oracle"), run, label="oracle", batch_size=10).run(progress=False)
    assert r.resumed == 30 and r.answered_now == len(tiny_bench.items) - 30
    ids = [p.item_id for p in load_predictions(run / "predictions.jsonl")]
    assert len(ids) == len(set(ids)) == len(tiny_bench.items)


def test_a_different_model_refuses_to_mix(tiny_bench: Benchmark, tmp_path: Path) -> None:
    Runner(tiny_bench, create_model("oracle"), tmp_path, label="oracle", limit=5).run(progress=False)
    with pytest.raises(DataError, match="holds a different run"):
        Runner(tiny_bench, create_model("random"), tmp_path, label="random", limit=5).run(progress=False)


def test_torn_last_line_is_dropped(tiny_bench: Benchmark, tmp_path: Path) -> None:
    Runner(tiny_bench, create_model("oracle"), tmp_path, label="oracle", limit=6).run(progress=False)
    p = tmp_path / "predictions.jsonl"
    p.write_bytes(p.read_bytes() + b'{"item_id": "half')
    assert len(load_predictions(p)) == 6
    r = Runner(tiny_bench, create_model("oracle"), tmp_path, label="oracle", limit=6).run(progress=False)
    assert r.answered_now == 0 and len(r.predictions) == 6


def test_run_json_records_versions_without_secrets(tiny_bench: Benchmark, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLLM_API_KEY", "sk-secret-123")
    Runner(tiny_bench, create_model("random"), tmp_path, label="random", limit=3).run(progress=False)
    meta = json.loads((tmp_path / "run.json").read_text())
    assert meta["benchmark"]["content_hash"] == tiny_bench.content_hash
    assert "numpy" in meta["versions"] and meta["fingerprint"]
    assert "sk-secret-123" not in (tmp_path / "run.json").read_text()


@pytest.mark.slow
def test_killed_cli_run_resumes_to_exactly_one_answer_per_item(tiny_bench: Benchmark, tmp_path: Path) -> None:
    """SIGKILL a real `robostress eval` process mid-run, rerun it, count answers."""
    run = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    cmd = [sys.executable, "-m", "robostress.cli.main", "eval", f"benchmark_dir={tiny_bench.root}",
           f"run_dir={run}", "model=classical", "batch_size=4", "progress=false", "report=false"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pred = run / "predictions.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and (not pred.exists() or pred.stat().st_size < 2000):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = len(load_predictions(pred))
    assert 0 < partial < len(tiny_bench.items), "the kill did not land mid-run"
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=300)
    ids = [p.item_id for p in load_predictions(pred)]
    assert len(ids) == len(set(ids)) == len(tiny_bench.items)
