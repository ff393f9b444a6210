"""The benchmark audit reads a built benchmark and reports what it measures."""

from __future__ import annotations

import subprocess
import sys

import pytest

from robostress.benchmark.audit import audit
from robostress.benchmark.load import Benchmark


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
def test_audit_command_prints_the_tables(tiny_bench: Benchmark) -> None:
    r = subprocess.run([sys.executable, "-m", "robostress.benchmark.audit", str(tiny_bench.root)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    for text in ("realised severity", "sees the void", "cells:"):
        assert text in r.stdout
    bad = subprocess.run([sys.executable, "-m", "robostress.benchmark.audit"], capture_output=True, text=True)
    assert bad.returncode != 0 and "usage" in bad.stderr
    missing = subprocess.run([sys.executable, "-m", "robostress.benchmark.audit", str(tiny_bench.root / "nope")],
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.strip().splitlines() == [f"robostress: error: no benchmark at {tiny_bench.root / 'nope'}: "
                                                   "manifest.json is missing"]
