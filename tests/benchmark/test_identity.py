"""A benchmark's identity (plans, items, truth, masks) is the same on another machine; its pixels
may differ by render noise, which ``robostress verify ... against=...`` measures.

"Another machine" is stood in for by Dr.Jit's LLVM code for 16 lanes (an AVX-512 host's; this
one's is 8), numpy with its AVX2/FMA3 dispatch group switched off, and two shards built in
reverse order and merged; the camouflage probes by ``scalar_rgb`` against ``llvm_ad_rgb``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from robostress.benchmark.agreement import frame_agreement
from robostress.benchmark.load import Benchmark
from robostress.benchmark.manifest import exact_frame, identity_hash
from robostress.render.variant import available

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
STANDIN = Path(__file__).with_name("standin_build.py")
needs_llvm = pytest.mark.skipif(not available("llvm_ad_rgb")[0], reason="llvm_ad_rgb is not available here")


def _build(out: Path, width: int, variant: str, shards: int = 1, **env: str) -> dict[str, str]:
    r = subprocess.run([sys.executable, str(STANDIN), str(out), str(out.parent / "cache"), str(width), variant,
                        str(shards)], env={**ENV, **env}, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.slow  # renders a benchmark twice (about 100 s): full suite only
@needs_llvm
def test_a_rebuild_on_a_stand_in_machine_has_the_same_identity_and_verify_measures_the_pixels(
        tmp_path: Path) -> None:
    here = _build(tmp_path / "here" / "out", 0, "llvm_ad_rgb")
    there = _build(tmp_path / "there" / "out", 16, "llvm_ad_rgb", shards=2, NPY_DISABLE_CPU_FEATURES="X86_V3")
    assert there["identity"] == here["identity"], (here, there)
    scalar = _build(tmp_path / "scalar" / "out", 0, "scalar_rgb")  # other samples altogether
    assert scalar["identity"] == here["identity"] and scalar["content_hash"] != here["content_hash"]
    a, b = Benchmark(tmp_path / "here/out"), Benchmark(tmp_path / "there/out")
    assert identity_hash(a.root, list(a.frames.values())) == a.identity  # recomputable from the files
    r = subprocess.run([sys.executable, "-m", "robostress.cli.main", "verify", f"benchmark_dir={a.root}",
                        f"against={b.root}", f"cache_dir={tmp_path / 'vc'}"], env=ENV, capture_output=True,
                       text=True, timeout=300, cwd=tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "the same benchmark" in out and "masks (ids, free space): equal" in out
    assert "items (questions and answers): equal" in out and "PSNR" in out and "max |a-b|" in out
    # a different benchmark: refused with the first difference, in one line
    bad = subprocess.run([sys.executable, "-m", "robostress.cli.main", "verify", f"benchmark_dir={a.root}",
                          f"against={tmp_path / 'nope'}", f"cache_dir={tmp_path / 'vc'}"], env=ENV,
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert bad.returncode == 2 and "no benchmark at" in bad.stderr and "Traceback" not in bad.stderr


def test_verify_against_another_benchmark_names_the_difference(tiny_bench: Benchmark, tmp_path: Path) -> None:
    import shutil

    other = Path(shutil.copytree(tiny_bench.root, tmp_path / "other"))
    m = json.loads((other / "manifest.json").read_text())
    lines = (other / "items.jsonl").read_text().splitlines(keepends=True)
    item = json.loads(lines[0])
    item["question"] += " (edited)"
    lines[0] = json.dumps(item, sort_keys=True, separators=(",", ":")) + "\n"
    (other / "items.jsonl").write_text("".join(lines))
    from robostress.benchmark.manifest import content_hash
    from robostress.benchmark.verify import HASHED, file_sha256

    frames = list(Benchmark(other).frames.values())
    m["files"]["items.jsonl"] = file_sha256(other / "items.jsonl")
    m["content_hash"] = content_hash(other, list(HASHED), frames)
    m["identity"] = identity_hash(other, frames)
    (other / "manifest.json").write_text(json.dumps(m))
    r = subprocess.run([sys.executable, "-m", "robostress.cli.main", "verify", f"benchmark_dir={tiny_bench.root}",
                        f"against={other}", f"cache_dir={tmp_path / 'vc'}"], env=ENV, capture_output=True,
                       text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "DIFFERENT benchmarks" in r.stdout and "items (questions and answers): DIFFER" in r.stdout
    assert "is not the same benchmark" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_the_identity_leaves_out_what_render_noise_changes(tiny_bench: Benchmark) -> None:
    f = next(iter(tiny_bench.frames.values()))
    noisy = f.model_copy(update={"hashes": {**f.hashes, "image": "0" * 64, "depth": "1" * 64},
                                 "render": {**f.render, "noise": {"spp": 99}},
                                 "stress": f.stress.model_copy(update={"realised": 123.0}),
                                 "objects": tuple(o.model_copy(update={"contrast": 1.5}) for o in f.objects)})
    assert exact_frame(noisy) == exact_frame(f)
    moved = f.model_copy(update={"hashes": {**f.hashes, "mask": "2" * 64}})
    assert exact_frame(moved) != exact_frame(f)


def test_frame_agreement_figures() -> None:
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    assert frame_agreement("f", a, b).psnr == float("inf")
    b[0, 0, 0] = 10
    got = frame_agreement("f", a, b)
    assert got.max_abs == 10 and got.mean_abs == pytest.approx(10 / 48, abs=1e-6)
    assert got.psnr == pytest.approx(10 * np.log10(255**2 / (100 / 48)), abs=1e-3)


def test_camouflage_probes_do_not_depend_on_the_builds_variant() -> None:
    """The probes render in scalar_rgb whatever variant is active, and leave the active one."""
    import mitsuba as mi

    import robostress.stress.camouflage as camo
    from robostress.render.variant import choose_variant, set_variant
    from robostress.scene.sample import sample_scene

    plan = sample_scene("tabletop", 3, 0)
    got = {}
    for v in ("scalar_rgb", choose_variant("auto")):
        set_variant(v)
        camo._camouflage.cache_clear()
        got[v] = camo.camouflage(plan)
        assert mi.variant() == v
    assert len(set(map(str, got.values()))) == 1
    for c in next(iter(got.values())).values():  # colours on the grid, exactly as JSON writes them
        assert all(abs(x / camo.RGB_STEP - round(x / camo.RGB_STEP)) < 1e-9 and len(repr(x)) <= 6 for x in c.rgb)
