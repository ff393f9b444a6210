"""`robostress merge shards=[...]`: three build shards merge into the benchmark one process builds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from robostress.benchmark.build import Builder
from robostress.benchmark.merge import VOLATILE
from tests.conftest import tiny_config

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def merge(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`robostress merge ...` as a real subprocess."""
    return subprocess.run([sys.executable, "-m", "robostress.cli.main", "merge", *args], env=ENV, cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Path:
    """A 3-scene tiny benchmark built in one process (``one``) and as 3 shards (``s0..s2``), one cache."""
    root = tmp_path_factory.mktemp("shards")
    Builder(tiny_config(num_scenes=3), root / "one", cache_dir).build(progress=False)
    for k in range(3):
        Builder(tiny_config(num_scenes=3, shard=k, num_shards=3), root / f"s{k}", cache_dir).build(progress=False)
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _stable(manifest: bytes) -> dict[str, object]:
    m = json.loads(manifest)
    return {k: v for k, v in m.items() if k not in VOLATILE}


def test_merged_shards_are_byte_for_byte_one_process(built: Path) -> None:
    """Every file equal byte for byte (the manifest up to build time and cache hits), same hash."""
    r = merge("shards=[s2,s0,s1]", "out_dir=merged", f"verify_cache={built / 'vc'}", cwd=built)
    assert r.returncode == 0, r.stderr
    one, merged = _files(built / "one"), _files(built / "merged")
    assert sorted(one) == sorted(merged)
    assert len([n for n in one if n.endswith(".png")]) > 100
    different = [n for n in one if n != "manifest.json" and one[n] != merged[n]]
    assert different == []
    assert _stable(one["manifest.json"]) == _stable(merged["manifest.json"])
    m = json.loads(merged["manifest.json"])
    assert m["config"]["num_shards"] == 1 and m["content_hash"] == json.loads(one["manifest.json"])["content_hash"]
    sizes = [json.loads((built / f"s{k}" / "manifest.json").read_text())["counts"]["frames"] for k in range(3)]
    assert sum(sizes) == m["counts"]["frames"] and max(sizes) <= 1.1 * min(sizes)


def _copy(built: Path, src: str, dst: str) -> Path:
    if (built / dst).exists():
        shutil.rmtree(built / dst)
    shutil.copytree(built / src, built / dst)
    return built / dst


def test_refuses_shards_that_are_not_one_whole_build(built: Path, cache_dir: Path) -> None:
    """Each bad set of shards gives one line naming the problem, exit 2, and no output folder."""
    Builder(tiny_config(num_scenes=3, name="other", shard=1, num_shards=3), built / "named", cache_dir).build(progress=False)
    Builder(tiny_config(num_scenes=3, shard=1, num_shards=2), built / "half", cache_dir).build(progress=False)
    seed = _copy(built, "s1", "seeded")
    m = json.loads((seed / "manifest.json").read_text())
    m["config"]["seed"] = 7
    (seed / "manifest.json").write_text(json.dumps(m))
    (_copy(built, "s1", "unfinished") / "manifest.json").unlink()
    damaged = _copy(built, "s1", "damaged")
    png = sorted((damaged / "images").iterdir())[0]
    png.write_bytes(png.read_bytes()[:-8])
    (built / "full").mkdir(exist_ok=True)
    (built / "full" / "x").write_text("x")
    cases = [
        (["shards=[s0,s1]"], "shard 2 of 3 is missing"),
        (["shards=[s0,s1,s1,s2]"], "shard 1 of 3 is given twice"),
        (["shards=[s0,named,s2]"], "differ in name"),
        (["shards=[s0,seeded,s2]"], "differ in config.seed (0 vs 7)"),
        (["shards=[s0,half,s2]"], "differ in config.num_shards (3 vs 2)"),
        (["shards=[s0,unfinished,s2]"], "is incomplete (no manifest.json"),
        (["shards=[s0,damaged,s2]"], "is damaged"),
        (["shards=[s0,nowhere,s2]"], "shard folder nowhere does not exist"),
        (["shards=[s0,s1,s2]", "runs=[r]"], "give either shards=[...]"),
        (["shards=[]"], "give either shards=[...]"),
    ]
    for args, msg in cases:
        r = merge(*args, "out_dir=bad", f"verify_cache={built / 'vc'}", cwd=built)
        assert r.returncode == 2 and msg in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
        assert not (built / "bad").exists() or not any((built / "bad").iterdir())
    r = merge("shards=[s0,s1,s2]", "out_dir=full", cwd=built)
    assert r.returncode == 2 and "out_dir=full is not empty" in r.stderr
