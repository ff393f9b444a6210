"""Builds under faults: ``kill -9`` at three moments, a full disk, a read-only folder.

A killed build is a real SIGKILL of a real ``robostress build`` process, sent by the process to
itself at a precise moment (patched into the write path by a small driver script), so the moment
does not depend on timing. After each fault the same command is rerun: the manifest hash must
equal an uninterrupted build's, ``robostress verify`` must pass, and every PNG must decode.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
BUILD = ["build", "benchmark=tiny", "benchmark.width=32", "benchmark.height=32", "renderer=preview",
         "benchmark.subtypes=[global_underexposure,occlusion]", "progress=false"]

# Runs `robostress build ...` and SIGKILLs itself at the moment named by argv[1].
DRIVER = r'''
import os, signal, sys
from pathlib import Path
moment, args = sys.argv[1], sys.argv[2:]
import robostress.render.cache as C, robostress.benchmark.build as B
calls = {"n": 0}
def die():
    os.kill(os.getpid(), signal.SIGKILL)
def half(path, data):  # what a write cut short leaves: half the bytes in the temporary file
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.{os.getpid()}.tmp"), "wb") as f:
        f.write(data[: len(data) // 2])
    die()
if moment == "mid-png":  # third PNG of the render cache half written
    real = C.write_atomic
    def w(path, data):
        calls["n"] += 1
        if calls["n"] == 3:
            half(path, data)
        real(path, data)
    C.write_atomic = w
elif moment == "mid-export":  # tenth file placed into the benchmark folder, not yet renamed
    real_copy = C.copy_atomic
    def c(src, dest):
        calls["n"] += 1
        if calls["n"] == 10:
            os.link(src, dest.with_name(f".{dest.name}.{os.getpid()}.tmp"))
            die()
        real_copy(src, dest)
    C.copy_atomic = c
elif moment == "mid-records":  # scenes and frames written, items.jsonl half written
    real_jsonl = B.write_jsonl
    def j(path, records):
        if Path(path).name == "items.jsonl":
            import json
            half(path, "".join(json.dumps(r) + "\n" for r in records).encode())
        real_jsonl(path, records)
    B.write_jsonl = j
sys.argv = ["robostress", *args]
from robostress.cli.main import main
main()
'''


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robostress.cli.main", *args], env=ENV, cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def manifest_hash(out: Path) -> str:
    return str(json.loads((out / "manifest.json").read_text())["content_hash"])


def assert_whole(out: Path, cwd: Path) -> None:
    r = cli("verify", f"benchmark_dir={out}", "full=true", cwd=cwd)
    assert r.returncode == 0, r.stderr
    for png in out.glob("*/*.png"):
        with Image.open(png) as im:
            im.load()  # a truncated PNG raises here
    assert not list(out.glob("**/.*.tmp")), "temporary files left in the benchmark"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> str:
    d = tmp_path_factory.mktemp("ref")
    r = cli(*BUILD, f"out_dir={d / 'b'}", f"cache_dir={d / 'c'}", cwd=d)
    assert r.returncode == 0, r.stderr
    return manifest_hash(d / "b")


@pytest.mark.parametrize("moment", ["mid-png", "mid-export", "mid-records"])
def test_kill_9_during_build_then_rerun_gives_the_same_benchmark(moment: str, reference: str, tmp_path: Path) -> None:
    out, cache = tmp_path / "b", tmp_path / "c"
    args = [*BUILD, f"out_dir={out}", f"cache_dir={cache}"]
    killed = subprocess.run([sys.executable, "-c", DRIVER, moment, *args], env=ENV, cwd=tmp_path,
                            capture_output=True, text=True, timeout=600)
    assert killed.returncode == -9, killed.stderr  # it really died by SIGKILL at that moment
    assert not (out / "manifest.json").exists()  # an interrupted build is never taken for a whole one
    if moment == "mid-records":
        assert (out / "frames.jsonl").exists() and not (out / "items.jsonl").exists()
    r = cli(*args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert manifest_hash(out) == reference
    assert_whole(out, tmp_path)


def test_full_disk_during_build_stops_with_one_line_and_resumes(reference: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC injected into the sixth file written (a real tmpfs is in tests/evaluate/test_disk_full.py)."""
    import errno

    from hydra import compose, initialize_config_module

    from robostress.benchmark.build import BuildConfig, Builder
    from robostress.cli.groups import build_config
    from robostress.errors import DataError

    with initialize_config_module("robostress.conf", version_base="1.3"):
        cfg = compose(config_name="build", overrides=[a for a in BUILD[1:] if not a.startswith("progress")])
    bc: BuildConfig = build_config(cfg.benchmark, cfg.renderer)
    out = tmp_path / "b"
    real = os.replace
    calls = {"n": 0}

    def full(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls["n"] += 1
        if calls["n"] == 6:
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        real(src, dst)

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(DataError, match="cannot write .*No space left on device.*rerun to resume"):
        Builder(bc, out, tmp_path / "c").build(progress=False)
    monkeypatch.setattr(os, "replace", real)
    assert not list(tmp_path.glob("**/.*.tmp")) and not (out / "manifest.json").exists()
    assert not (out / ".lock").exists()
    Builder(bc, out, tmp_path / "c").build(progress=False)
    assert manifest_hash(out) == reference
    assert_whole(out, tmp_path)


def test_build_into_a_read_only_folder_is_one_line(tmp_path: Path) -> None:
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"]).returncode != 0:
        pytest.skip("needs unshare -m to mount a read-only tmpfs")
    ro = tmp_path / "ro"
    ro.mkdir()
    script = (f"mount -t tmpfs -o size=1m,ro tmpfs {ro} && {sys.executable} -m robostress.cli.main "
              f"{' '.join(BUILD)} out_dir={ro}/b cache_dir={tmp_path}/c")
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], env=ENV, cwd=tmp_path, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 2 and "Read-only file system" in r.stderr and "Traceback" not in r.stderr, r.stderr
