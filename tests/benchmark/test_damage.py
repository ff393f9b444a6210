"""Damaged inputs through the real CLI: each gives one line naming the problem and exit 2.

Every case copies the tiny benchmark (or a finished run of it), damages one thing, runs
``robostress verify`` or ``robostress eval`` in-process through Hydra, and checks the exit code,
the message, and that nothing escaped as an exception (a traceback). With
``ROBOSTRESS_DAMAGE_TABLE=path`` the observed messages are also written as a Markdown table.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from robostress.benchmark.load import Benchmark
from robostress.cli import main as cli_main

Damage = Callable[[Path], None]
OBSERVED: list[tuple[str, str, int, str]] = []


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run ``robostress *args`` in this process; (exit code, stderr)."""
    capsys.readouterr()
    old = sys.argv
    sys.argv = ["robostress", *args]
    try:
        cli_main.main()
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    finally:
        sys.argv = old
    return code, capsys.readouterr().err


# -- damage helpers ----------------------------------------------------------------------------
def lines(p: Path) -> list[str]:
    return p.read_text().splitlines(keepends=True)


def edit_record(name: str, i: int, fn: Callable[[dict], None]) -> Damage:  # type: ignore[type-arg]
    def damage(d: Path) -> None:
        ls = lines(d / name)
        rec = json.loads(ls[i])
        fn(rec)
        ls[i] = json.dumps(rec) + "\n"
        (d / name).write_text("".join(ls))
    return damage


def first_file(d: Path, sub: str, k: int = 0) -> Path:
    return sorted((d / sub).iterdir())[k]


def write(rel: str, data: bytes) -> Damage:
    return lambda d: (d / rel).write_bytes(data)


def cut(rel: str, frac: float) -> Damage:
    def damage(d: Path) -> None:
        data = (d / rel).read_bytes()
        (d / rel).write_bytes(data[: int(len(data) * frac)])
    return damage


def set_key(key: str, value: object) -> Callable[[dict], None]:  # type: ignore[type-arg]
    return lambda r: r.__setitem__(key, value)


def duplicate_line(name: str) -> Damage:
    return lambda d: (d / name).write_text("".join(lines(d / name) + lines(d / name)[:1]))


def manifest(fn: Callable[[dict], object]) -> Damage:  # type: ignore[type-arg]
    def damage(d: Path) -> None:
        m = json.loads((d / "manifest.json").read_text())
        out = fn(m)
        (d / "manifest.json").write_text(json.dumps(m if out is None else out))
    return damage


def replace_image(d: Path) -> None:
    first_file(d, "images").write_bytes(b"this is not a PNG\n")


def rgb_for_mask(d: Path) -> None:
    shutil.copyfile(first_file(d, "images"), first_file(d, "masks"))


def nan_in_frame(d: Path) -> None:
    p = d / "frames.jsonl"
    ls = lines(p)
    ls[0] = ls[0].replace('"width":', '"width":NaN,"w0":', 1)
    p.write_text("".join(ls))


def escape_path(d: Path) -> None:
    edit_record("frames.jsonl", 0, set_key("image", "../../../etc/passwd"))(d)


def frame_hash_changed(d: Path) -> None:
    edit_record("frames.jsonl", 0, lambda r: r["hashes"].__setitem__("image", "0" * 64))(d)


def answer_changed(d: Path) -> None:
    def flip(r: dict) -> None:  # type: ignore[type-arg]
        r["answer"] = "B" if r.get("answer") == "A" else "A"
    items = lines(d / "items.jsonl")
    i = next(k for k, ln in enumerate(items) if '"format": "mc"' in ln or '"format":"mc"' in ln)
    edit_record("items.jsonl", i, flip)(d)


BENCH_CASES: list[tuple[str, str, Damage, str]] = [
    # name, command, damage, expected part of the message
    ("items.jsonl first record schema_version 99", "eval", edit_record("items.jsonl", 0, set_key("schema_version", 99)),
     "items.jsonl: line 1: record has schema_version 99"),
    ("items.jsonl schema_version 99, eval with allow_damaged=true", "eval-allow",
     edit_record("items.jsonl", 0, set_key("schema_version", 99)), "items.jsonl:1: record has schema_version 99"),
    ("image replaced by a non-PNG file", "eval", replace_image, "content differs from its recorded sha256"),
    ("image deleted", "eval", lambda d: first_file(d, "images").unlink(), ": missing"),
    ("image truncated to half (half PNG)", "verify", lambda d: cut(str(first_file(d, "images").relative_to(d)), 0.5)(d),
     "content differs from its recorded sha256"),
    ("mask replaced by an RGB PNG", "verify", rgb_for_mask, "masks/"),
    ("depth PNG deleted", "verify", lambda d: first_file(d, "depth", 3).unlink(), ": missing"),
    ("items.jsonl torn mid-line", "verify", cut("items.jsonl", 0.5), "not valid JSON"),
    ("frames.jsonl truncated to a third", "verify", cut("frames.jsonl", 0.33), "frames.jsonl"),
    ("manifest.json truncated", "verify", cut("manifest.json", 0.5), "manifest.json is not valid JSON"),
    ("manifest.json missing", "eval", lambda d: (d / "manifest.json").unlink(), "no manifest.json"),
    ("manifest schema_version 2", "verify", manifest(lambda m: m.update(schema_version=2)),
     "manifest schema_version 2 is not supported"),
    ("manifest schema_version \"1\" (a string)", "verify", manifest(lambda m: m.update(schema_version="1")),
     "manifest schema_version '1' is not supported"),
    ("manifest content_hash changed", "verify", manifest(lambda m: m.update(content_hash="f" * 64)),
     "content_hash does not match"),
    ("manifest is a JSON array", "verify", manifest(lambda m: [m]), "expected a JSON object"),
    ("scenes.jsonl record without schema_version", "verify", edit_record("scenes.jsonl", 0, lambda r: r.pop("schema_version")),
     "has no schema_version"),
    ("frames.jsonl holds NaN", "verify", nan_in_frame, "NaN is not a JSON number"),
    ("items.jsonl line of 2 MiB", "verify", lambda d: (d / "items.jsonl").write_text(
        '{"pad":"' + "x" * (2 << 20) + '"}\n' + (d / "items.jsonl").read_text()), "record larger than 1048576 bytes"),
    ("items.jsonl severity \"high\" (wrong type)", "verify", edit_record("items.jsonl", 2, set_key("severity", "high")),
     "invalid Item (severity"),
    ("items.jsonl with an unknown field", "verify", edit_record("items.jsonl", 1, set_key("evil", 1)), "invalid Item (evil"),
    ("items.jsonl duplicate item id", "verify", duplicate_line("items.jsonl"), "duplicate item_id"),
    ("frames.jsonl duplicate frame id", "verify", duplicate_line("frames.jsonl"), "duplicate frame_id"),
    ("item pointing at a missing frame", "verify", edit_record("items.jsonl", 0, set_key("frame_id", "nowhere/clean")),
     "points at a missing frame"),
    ("frame image path escaping the folder", "verify", escape_path, "path escapes the benchmark folder"),
    ("frame record's image hash changed", "verify", frame_hash_changed, "content_hash does not match"),
    ("items.jsonl is binary garbage", "verify", write("items.jsonl", bytes(range(256)) * 8), "not valid JSON"),
    ("items.jsonl record is a JSON array", "verify", write("items.jsonl", b"[1, 2]\n"), "expected a JSON object"),
    ("items.jsonl emptied", "verify", write("items.jsonl", b""), "holds 0 records; the manifest says"),
    ("an answer letter changed (well-formed)", "verify", answer_changed, "items.jsonl: content differs"),
    ("items.jsonl replaced by a folder", "verify", lambda d: ((d / "items.jsonl").unlink(), (d / "items.jsonl").mkdir()),
     "items.jsonl"),
]


@pytest.fixture(scope="module", autouse=True)
def _damage_table() -> object:
    """With ROBOSTRESS_DAMAGE_TABLE=path, write the observed messages as a Markdown table."""
    yield
    out = os.environ.get("ROBOSTRESS_DAMAGE_TABLE")
    if out and OBSERVED:
        rows = ["| damaged input | command | exit | observed message |", "|---|---|---|---|"]
        rows += [f"| {n} | {c} | {code} | {m.replace('|', '/')[:400]} |" for n, c, code, m in OBSERVED]
        Path(out).write_text("\n".join(rows) + "\n")


@pytest.fixture()
def bench_copy(tiny_bench: Benchmark, tmp_path: Path) -> Path:
    d = tmp_path / "bench"
    shutil.copytree(tiny_bench.root, d)
    return d


@pytest.fixture(autouse=True)
def _verify_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOSTRESS_CACHE", str(tmp_path / "cache"))


def test_the_whole_benchmark_verifies(bench_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(capsys, "verify", f"benchmark_dir={bench_copy}")
    assert code == 0, err


@pytest.mark.parametrize(("name", "cmd", "damage", "want"), BENCH_CASES, ids=[c[0] for c in BENCH_CASES])
@pytest.mark.slow
def test_damaged_benchmark(name: str, cmd: str, damage: Damage, want: str, bench_copy: Path, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    run_cli(capsys, "verify", f"benchmark_dir={bench_copy}")  # warm the hash cache: damage must still be seen
    damage(bench_copy)
    args = [f"benchmark_dir={bench_copy}"]
    if cmd.startswith("eval"):
        args += ["model=oracle", f"run_dir={tmp_path / 'run'}", "progress=false"]
    if cmd == "eval-allow":
        args += ["allow_damaged=true"]
    code, err = run_cli(capsys, cmd.split("-")[0], *args)
    OBSERVED.append((name, cmd, code, err.strip()))
    assert code == 2 and "robostress: error:" in err and want in err, err
    assert "Traceback" not in err
    if cmd.startswith("eval"):
        assert not (tmp_path / "run" / "predictions.jsonl").exists()  # refused before any answer


@pytest.fixture(scope="module")
def finished_run(tiny_bench: Benchmark, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from robostress.evaluate.evaluate import evaluate

    run = tmp_path_factory.mktemp("run") / "oracle"
    evaluate(tiny_bench.root, {"backend": "oracle", "label": "oracle"}, run, limit=40, progress=False, report=False)
    return run


def pred_edit(i: int, fn: Callable[[dict], None]) -> Damage:  # type: ignore[type-arg]
    return edit_record("predictions.jsonl", i, fn)


def lock_by(pid: int, host: str | None = None) -> Damage:
    import socket

    return lambda d: (d / ".lock").write_text(json.dumps({"pid": pid, "host": host or socket.gethostname()}))


RUN_CASES: list[tuple[str, Damage, str]] = [
    ("run.json schema_version 99", lambda d: (d / "run.json").write_text(
        json.dumps({**json.loads((d / "run.json").read_text()), "schema_version": 99})),
     "run.json: record has schema_version 99"),
    ("run.json truncated", cut("run.json", 0.5), "run.json is corrupt"),
    ("predictions.jsonl schema_version 99", pred_edit(3, set_key("schema_version", 99)),
     "predictions.jsonl:4: record has schema_version 99"),
    ("predictions.jsonl duplicate item", duplicate_line("predictions.jsonl"), "a second prediction of item"),
    ("predictions.jsonl NaN score", lambda d: (d / "predictions.jsonl").write_text(
        (d / "predictions.jsonl").read_text().replace('"score": 1.0', '"score": NaN', 1)), "NaN is not a JSON number"),
    ("predictions.jsonl score \"high\"", pred_edit(0, set_key("score", "high")), "predictions.jsonl:1: not a valid prediction (score:"),
    ("run folder locked by another host", lock_by(12345, "elsewhere"), "is locked by process 12345 on host 'elsewhere'"),
    ("run folder of another model", lambda d: (d / "run.json").write_text(json.dumps(
        {**json.loads((d / "run.json").read_text()), "fingerprint": "0" * 16})), "holds a different run"),
]


@pytest.mark.parametrize(("name", "damage", "want"), RUN_CASES, ids=[c[0] for c in RUN_CASES])
@pytest.mark.slow
def test_damaged_run_folder(name: str, damage: Damage, want: str, finished_run: Path, tiny_bench: Benchmark,
                            tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    damage(run)
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    code, err = run_cli(capsys, "eval", f"benchmark_dir={tiny_bench.root}", "model=oracle", f"run_dir={run}",
                        "limit=40", "progress=false")
    OBSERVED.append((name, "eval", code, err.strip()))
    assert code == 2 and "robostress: error:" in err and want in err, err
    assert "Traceback" not in err
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before  # nothing overwritten


@pytest.mark.slow
def test_run_folder_locked_by_a_live_process(finished_run: Path, tiny_bench: Benchmark, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        from robostress.lock import _start_time

        (run / ".lock").write_text(json.dumps({"pid": sleeper.pid, "host": __import__("socket").gethostname(),
                                               "start": _start_time(sleeper.pid)}))
        code, err = run_cli(capsys, "eval", f"benchmark_dir={tiny_bench.root}", "model=oracle", f"run_dir={run}",
                            "limit=40", "progress=false")
    finally:
        sleeper.kill()
        sleeper.wait()
    OBSERVED.append(("run folder locked by a live process", "eval", code, err.strip()))
    assert code == 2 and f"is being written by process {sleeper.pid}" in err, err
