"""The benchmark audit reads a built benchmark and reports what it measures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from robostress.benchmark.audit import audit, format_audit
from robostress.benchmark.load import Benchmark

ROOT = Path(__file__).resolve().parents[2]


def test_audit_counts_match_the_benchmark(tiny_bench: Benchmark) -> None:
    a = audit(tiny_bench.root)
    assert (a["scenes"], a["frames"], a["items"]) == (len(tiny_bench.scenes), len(tiny_bench.frames),
                                                       len(tiny_bench.items))
    assert set(a["categories"]) == {o.category for p in tiny_bench.scenes.values() for o in p.objects}
    subs = {f.stress.subtype for f in tiny_bench.frames.values() if f.stress.severity}
    assert {r["subtype"] for r in a["realised"]} <= subs
    for r in a["realised"]:
        assert r["s1"] is not None and r["s5"] is not None
    assert a["cells"]["items_min"] >= 1 and a["cells"]["scenes_min"] == 1


@pytest.mark.slow
def test_audit_command_prints_the_tables(tiny_bench: Benchmark, tmp_path: Path) -> None:
    """``robostress audit``, real Hydra composition: the tables on stdout; a missing or absent
    benchmark is one line and exit code 2."""
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "robostress.cli.main", "audit", *args], cwd=tmp_path,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                              timeout=300)

    r = cli(f"benchmark_dir={tiny_bench.root}")
    assert r.returncode == 0, r.stderr
    for text in ("realised severity", "sees the void", "cells:"):
        assert text in r.stdout
    assert r.stdout == format_audit(audit(tiny_bench.root)) + "\n"
    bad = cli()
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "robostress: error: benchmark_dir is required: give a built benchmark, e.g. benchmark_dir=benchmarks/mini "
        "(run `robostress build` first)"]
    missing = cli(f"benchmark_dir={tiny_bench.root / 'nope'}")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.strip().splitlines() == [f"robostress: error: benchmark_dir={tiny_bench.root / 'nope'}: "
                                                   "no benchmark there (manifest.json is missing); run `robostress "
                                                   f"build benchmark=mini out_dir={tiny_bench.root / 'nope'}` first"]
    assert list(tmp_path.iterdir()) == []
