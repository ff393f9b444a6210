"""`robostress export`: a Hugging Face datasets folder that evaluates, without Mitsuba, to the same
item ids and scores as the build folder; damaged or foreign exports are refused with one line."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from robostress.benchmark.dataset import materialize, resolve_benchmark_dir
from robostress.benchmark.export import export_benchmark
from robostress.benchmark.load import Benchmark
from robostress.benchmark.manifest import content_hash
from robostress.benchmark.verify import HASHED, verify_benchmark
from robostress.errors import ConfigError, DataError

ROOT = Path(__file__).resolve().parents[2]
# The eval child: mitsuba and drjit cannot be imported, as on a machine without them.
BLOCK = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("mitsuba", "drjit"):
            raise ImportError("no module named " + name + " (blocked by the test)")
sys.meta_path.insert(0, _Block())
"""
MAIN = """
sys.argv = ["robostress"] + sys.argv[1:]
from robostress.cli.main import main
main()
"""


def cli(*args: str, cwd: Path, block_mitsuba: bool = False, code: str = MAIN) -> subprocess.CompletedProcess[str]:
    """``robostress *args`` in a subprocess; with ``block_mitsuba``, where mitsuba and drjit cannot be imported."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ROBOSTRESS_CACHE": str(cwd / "cache")}
    head = ["-c", BLOCK + code] if block_mitsuba else ["-m", "robostress.cli.main"]
    return subprocess.run([sys.executable, *head, *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def exported(tiny_bench: Benchmark, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny benchmark exported once (shards of 0.1 MB, so there are several)."""
    out = tmp_path_factory.mktemp("export") / "tiny-hf"
    export_benchmark(tiny_bench.root, out, shard_mb=0.1)
    return out


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def _reindex(root: Path) -> None:
    """Rewrite export.json's sizes and hashes as a forger would (so only deeper checks can fail)."""
    idx = json.loads((root / "export.json").read_text())
    for rel in list(idx["files"]):
        p = root / rel
        if p.exists():
            idx["files"][rel] = {"sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "bytes": p.stat().st_size}
    (root / "export.json").write_text(json.dumps(idx))


def test_export_loads_with_datasets_and_rebuilds_the_build_byte_for_byte(
        tiny_bench: Benchmark, exported: Path, tmp_path: Path) -> None:
    from datasets import load_dataset

    frames_shards = sorted(p.name for p in (exported / "data").glob("frames-*.parquet"))
    assert len(frames_shards) > 1
    items = load_dataset(str(exported), "items", split="test", cache_dir=str(tmp_path / "hf"))
    frames = load_dataset(str(exported), "frames", split="test", cache_dir=str(tmp_path / "hf"))
    assert items["item_id"] == [i.item_id for i in tiny_bench.items]
    assert sorted(frames["frame_id"]) == sorted(tiny_bench.frames)
    first = items[0]
    assert first["image"].size == (48, 48) and first["options"] == list(tiny_bench.items[0].options)
    assert frames[0]["mask"].mode == "I;16"
    card = (exported / "README.md").read_text()
    assert tiny_bench.content_hash in card and "config_name: items" in card and "license:" in card
    assert "| lighting | global_underexposure | 1,3,5 |" in card

    again = export_benchmark(tiny_bench.root, tmp_path / "again", shard_mb=0.1)
    assert (tmp_path / "again" / "export.json").read_bytes() == (exported / "export.json").read_bytes()
    assert again["content_hash"] == tiny_bench.content_hash  # two exports: the same bytes, file by file

    dest = materialize(exported, tmp_path / "rebuilt")
    for p in sorted(tiny_bench.root.rglob("*")):
        if p.is_file():
            assert (dest / p.relative_to(tiny_bench.root)).read_bytes() == p.read_bytes(), p
    assert {p.relative_to(dest) for p in dest.rglob("*")} == {p.relative_to(tiny_bench.root) for p in tiny_bench.root.rglob("*")}
    assert verify_benchmark(dest, tmp_path / "vc", full=True).ok


@pytest.mark.parametrize("model", ["classical", "oracle"])
@pytest.mark.slow
def test_eval_from_export_without_mitsuba_equals_eval_from_build(
        model: str, tiny_bench: Benchmark, exported: Path, tmp_path: Path) -> None:
    r = cli("eval", f"model={model}", f"benchmark_dir={tiny_bench.root}", "run_dir=from_build",
            "progress=false", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    blocked = cli(cwd=tmp_path, block_mitsuba=True, code="import mitsuba")
    assert blocked.returncode != 0 and "blocked by the test" in blocked.stderr
    r = cli("eval", f"model={model}", f"benchmark_dir={exported}", "run_dir=from_export",
            "progress=false", cwd=tmp_path, block_mitsuba=True)
    assert r.returncode == 0, r.stderr
    preds = {}
    for run in ("from_build", "from_export"):
        rows = [json.loads(line) for line in (tmp_path / run / "predictions.jsonl").read_text().splitlines()]
        for row in rows:
            row.pop("latency_s")
        preds[run] = rows
    assert preds["from_build"] == preds["from_export"]
    assert [p["item_id"] for p in preds["from_export"]] == [i.item_id for i in tiny_bench.items]
    assert (tmp_path / "from_build" / "summary.json").read_bytes() == (tmp_path / "from_export" / "summary.json").read_bytes()
    if model == "oracle":
        assert all(p["correct"] for p in preds["from_export"])
    runs = [json.loads((tmp_path / r / "run.json").read_text()) for r in ("from_build", "from_export")]
    assert runs[0]["fingerprint"] == runs[1]["fingerprint"]


@pytest.mark.slow
def test_cli_export_and_its_refusals(tiny_bench: Benchmark, tmp_path: Path) -> None:
    r = cli("export", f"benchmark_dir={tiny_bench.root}", "out_dir=hf", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "exported" in r.stdout + r.stderr and (tmp_path / "hf" / "export.json").is_file()
    r = cli("export", f"benchmark_dir={tiny_bench.root}", "out_dir=hf", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == ["robostress: error: out_dir=hf is not empty: "
                                                                   "give a new folder for the export"]
    r = cli("export", f"benchmark_dir={tmp_path / 'nothing'}", "out_dir=hf2", cwd=tmp_path)
    assert r.returncode == 2 and "no benchmark there" in r.stderr and "Traceback" not in r.stderr
    r = cli("export", f"benchmark_dir={tiny_bench.root}", "out_dir=hf3", "shard_mb=0", cwd=tmp_path)
    assert r.returncode == 2 and "shard_mb=0 is not allowed" in r.stderr


def _damage_items_record(root: Path) -> str:
    p = root / "records" / "items.jsonl"
    p.write_bytes(p.read_bytes().replace(b'"severity":0', b'"severity":1', 1))
    return "records/items.jsonl differs from its sha256"


def _drop_shard(root: Path) -> str:
    (root / "data" / "frames-00001.parquet").unlink()
    return "data/frames-00001.parquet is missing"


def _drop_shard_and_reindex(root: Path) -> str:
    (root / "data" / "frames-00001.parquet").unlink()
    idx = json.loads((root / "export.json").read_text())
    del idx["files"]["data/frames-00001.parquet"]
    (root / "export.json").write_text(json.dumps(idx))
    return "is incomplete: no shard holds frame"


def _unknown_version(root: Path) -> str:
    idx = json.loads((root / "export.json").read_text())
    idx["schema_version"] = 99
    (root / "export.json").write_text(json.dumps(idx))
    return "export schema_version 99 is not supported"


def _foreign_shard(root: Path) -> str:
    (root / "data" / "frames-00099.parquet").write_bytes(b"PAR1")
    return "frames-00099.parquet is not listed"


def _not_parquet(root: Path) -> str:
    (root / "data" / "frames-00000.parquet").write_bytes(b"not parquet at all")
    _reindex(root)
    return "data/frames-00000.parquet is not a readable Parquet file"


def _wrong_columns(root: Path) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"frame_id": ["x"]}), root / "data" / "frames-00000.parquet")
    _reindex(root)
    return "has no column 'image'"


def _swapped_pixels(root: Path) -> str:
    import pyarrow.parquet as pq

    p = root / "data" / "frames-00000.parquet"
    t = pq.read_table(p)
    t = t.set_column(t.schema.get_field_index("mask"), "mask", t.column("depth"))
    pq.write_table(t, p)
    _reindex(root)
    return "differs from its recorded sha256"


def _escaping_path(root: Path) -> str:
    """A forged export whose records are self-consistent (hashes recomputed) but point outside."""
    rec = root / "records"
    lines = (rec / "frames.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["free"] = "free/../../../escaped.png"
    lines[0] = json.dumps(first, sort_keys=True, separators=(",", ":"))
    (rec / "frames.jsonl").write_text("\n".join(lines) + "\n")
    m = json.loads((rec / "manifest.json").read_text())
    tmp = root.parent / "forge"
    tmp.mkdir()
    for name in ("scenes.jsonl", "frames.jsonl", "items.jsonl"):
        (tmp / name).write_bytes((rec / name).read_bytes())
    (tmp / "manifest.json").write_text(json.dumps(m))
    frames = list(Benchmark(tmp).frames.values())
    m["content_hash"] = content_hash(tmp, list(HASHED), frames)
    (rec / "manifest.json").write_text(json.dumps(m))
    idx = json.loads((root / "export.json").read_text())
    idx["content_hash"] = m["content_hash"]
    (root / "export.json").write_text(json.dumps(idx))
    _reindex(root)
    return "escapes the folder"


@pytest.mark.parametrize("damage", [_damage_items_record, _drop_shard, _drop_shard_and_reindex, _unknown_version,
                                    _foreign_shard, _not_parquet, _wrong_columns, _swapped_pixels, _escaping_path])
def test_damaged_or_foreign_export_is_refused(damage, exported: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = _copy(exported, tmp_path / "bad")
    want = damage(bad)
    (tmp_path / "out").mkdir()
    with pytest.raises(DataError, match=want.replace("(", r"\(").replace(".", r"\.")):
        materialize(bad, tmp_path / "out" / "b")
    assert not (tmp_path / "out" / "b").exists() and not (tmp_path / "escaped.png").exists()
    assert not [p for p in (tmp_path / "out").iterdir()]  # the temporary folder is gone too


def test_row_group_over_the_bound_is_refused_before_it_is_read(exported: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import robostress.benchmark.dataset as ds

    monkeypatch.setattr(ds, "MAX_ROW_GROUP_BYTES", 1000)
    with pytest.raises(DataError, match="row group 0 would decompress to more than 1000 bytes"):
        materialize(exported, tmp_path / "b")


@pytest.mark.slow
def test_eval_cli_refuses_a_damaged_export_in_one_line(exported: Path, tmp_path: Path) -> None:
    bad = _copy(exported, tmp_path / "bad")
    _drop_shard(bad)
    r = cli("eval", "model=oracle", f"benchmark_dir={bad}", "run_dir=r", "progress=false", cwd=tmp_path,
            block_mitsuba=True)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"robostress: error: export {bad} is incomplete: "
                                             "data/frames-00001.parquet is missing"]
    assert not (tmp_path / "r").exists()


def test_loaded_copy_is_reused_and_rebuilt_when_damaged(exported: Path, tmp_path: Path) -> None:
    cache = tmp_path / "datasets"
    first = resolve_benchmark_dir(exported, cache, tmp_path / "vc")
    assert first.parent == cache and first.name.startswith("tiny-")
    stamp = (first / "items.jsonl").stat().st_mtime_ns
    assert resolve_benchmark_dir(exported, cache, tmp_path / "vc") == first
    assert (first / "items.jsonl").stat().st_mtime_ns == stamp  # reused, not rewritten
    img = sorted((first / "images").iterdir())[0]
    img.write_bytes(b"damaged")
    again = resolve_benchmark_dir(exported, cache, tmp_path / "vc")
    assert again == first and verify_benchmark(again, tmp_path / "vc", full=True).ok
    built = Path("somewhere/else")
    assert resolve_benchmark_dir(built, cache) == built  # not an export: left to the benchmark reader


def test_export_refuses_a_damaged_benchmark(tiny_bench: Benchmark, tmp_path: Path) -> None:
    src = _copy(tiny_bench.root, tmp_path / "src")
    img = sorted((src / "images").iterdir())[0]
    img.write_bytes(img.read_bytes()[:-10])
    with pytest.raises(DataError, match="is damaged"):
        export_benchmark(src, tmp_path / "hf", verify_cache=tmp_path / "vc")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        export_benchmark(tiny_bench.root, tmp_path / "full")
