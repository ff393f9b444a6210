"""Any model preset can be the main model of the main job: vllm against a real loopback server
works end to end (report and comparison); without a name or a server it stops with one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from robostress.testing.fake_vllm import FakeVLLMServer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
TINY = ["benchmark=tiny", "benchmark.width=48", "benchmark.height=48", "renderer=preview",
        "benchmark.subtypes=[global_underexposure]", "progress=false", "agents=[]", "skill_ablations=false",
        "sanity_models=[oracle]"]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robostress.cli.main", *args], env=ENV, cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_main_model_vllm_without_a_name_is_one_line(tmp_path: Path) -> None:
    t = time.perf_counter()
    r = cli("main_model=vllm", *TINY, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "model 'vllm' needs name: pass main_model_args.name=" in r.stderr
    assert not (tmp_path / "benchmarks").exists() and time.perf_counter() - t < 60  # nothing built


def test_main_model_vllm_without_its_server_is_one_line_before_building(tmp_path: Path) -> None:
    r = cli("main_model=vllm", "main_model_args.name=qwen", "main_model_args.base_url=http://127.0.0.1:9/v1",
            *TINY, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "cannot reach the model server" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "benchmarks").exists()


def test_main_model_vllm_runs_the_main_job_through_a_real_server(tmp_path: Path, cache_dir: Path) -> None:
    with FakeVLLMServer(model="tiny-vlm") as srv:
        r = cli("main_model=vllm", "main_model_args.name=tiny-vlm", f"main_model_args.base_url={srv.url}",
                f"cache_dir={cache_dir}", *TINY, cwd=tmp_path)
        served = len(srv.requests)
    assert r.returncode == 0, r.stderr
    comp = json.loads((tmp_path / "runs/tiny/compare/compare.json").read_text())
    assert list(comp["models"]) == ["tiny-vlm", "reader", "oracle"]  # main, CE reference, sanity
    assert [d["b"] for d in comp["paired_differences"]] == ["reader", "oracle"]
    n_items = sum(1 for _ in open(tmp_path / "runs/tiny/tiny-vlm/predictions.jsonl"))  # runs/<benchmark>/<label>
    assert served == n_items > 0
    summary = json.loads((tmp_path / "runs/tiny/summary.json").read_text())
    assert summary["model"] == "tiny-vlm" and summary["corruption_error"]["reference_model"] == "reader"
    assert "comparison (CSV + LaTeX tables beside it): runs/tiny/compare/compare.html" in r.stdout + r.stderr


def test_the_ce_reference_is_the_reader_with_torch_and_classical_without(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from robostress.evaluate import main_job
    assert main_job.ce_reference() == "reader"  # the test environment has torch (the hf extra)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    assert main_job.ce_reference() == "classical"
