"""``verify_benchmark``: the size+mtime hash cache, older manifests, and eval with allow_damaged."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from robostress.benchmark.load import Benchmark
from robostress.benchmark.verify import verify_benchmark


@pytest.fixture()
def bench(tiny_bench: Benchmark, tmp_path: Path) -> Path:
    d = tmp_path / "bench"
    shutil.copytree(tiny_bench.root, d)
    return d


def test_hash_cache_hashes_once_and_notices_a_change(bench: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = verify_benchmark(bench, cache)
    n = first.files
    assert first.ok and first.hashed == n and first.cached == 0 and n == 5 + 4 * len(Benchmark(bench).frames)
    second = verify_benchmark(bench, cache)
    assert second.ok and (second.hashed, second.cached) == (0, n)
    img = sorted((bench / "images").iterdir())[1]
    data = bytearray(img.read_bytes())
    data[-20] ^= 0xFF  # same size, new mtime
    img.write_bytes(bytes(data))
    third = verify_benchmark(bench, cache)
    assert third.hashed == 1 and [p.path for p in third.problems] == [f"images/{img.name}"]
    full = verify_benchmark(bench, cache, full=True)
    assert full.hashed == n and full.cached == 0


def test_cache_cannot_be_fooled_by_restored_mtime_with_full(bench: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert verify_benchmark(bench, cache).ok
    img = sorted((bench / "images").iterdir())[0]
    st = img.stat()
    data = bytearray(img.read_bytes())
    data[-20] ^= 0xFF
    img.write_bytes(bytes(data))
    os.utime(img, ns=(st.st_atime_ns, st.st_mtime_ns))  # size and mtime as before
    assert verify_benchmark(bench, cache).ok  # the documented limit of the fast path
    assert not verify_benchmark(bench, cache, full=True).ok


def test_manifest_without_file_hashes_still_catches_a_changed_record(bench: Path, tmp_path: Path) -> None:
    m = json.loads((bench / "manifest.json").read_text())
    del m["files"]  # as written before the manifest recorded them
    (bench / "manifest.json").write_text(json.dumps(m))
    assert verify_benchmark(bench, tmp_path / "c").ok
    items = (bench / "items.jsonl").read_text().replace('"answer":"A"', '"answer":"B"', 1)
    (bench / "items.jsonl").write_text(items)
    res = verify_benchmark(bench, tmp_path / "c")
    assert [str(p) for p in res.problems] == [
        "manifest.json: content_hash does not match the records and frame hashes; identity does not match "
        "the plans, items, truth and masks (a record was changed)"]


@pytest.mark.slow
def test_eval_with_allow_damaged_says_so_at_the_top(bench: Path, tmp_path: Path) -> None:
    from robostress.evaluate.evaluate import evaluate

    gone = sorted((bench / "images").iterdir())[0]
    gone.unlink()
    out = evaluate(bench, {"backend": "classical", "label": "classical"}, tmp_path / "run", progress=False,
                   allow_damaged=True, verify_cache=tmp_path / "c")
    assert out["damaged"] == [f"images/{gone.name}: missing"]
    md = (tmp_path / "run" / "report.md").read_text()
    assert md.startswith("> **Warning:** the benchmark is damaged (1 problems: images/")
    html = (tmp_path / "run" / "report.html").read_text()
    assert html.index("Warning:") < html.index("<h1")
    preds = out["predictions"]
    failed = [p for p in preds if p.error]
    assert len(preds) == len(Benchmark(bench).items) and failed
    assert all(gone.name in str(p.error) and p.score == 0 for p in failed)
