"""Leaderboards: real runs on the tiny benchmark are packed, verified, submitted and built into a
board; every kind of tampered bundle is refused with its reason; a false claim is flagged."""

from __future__ import annotations

import gzip
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from robostress.benchmark.load import Benchmark
from robostress.evaluate.evaluate import evaluate
from robostress.leaderboard import Board, build, entries, load_board, pack, submit, verify
from robostress.metrics import summarize

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
EVIL = "<img src=x onerror=alert(1)>"
MODELS = {"oracle": None, "random": None, "classical": None, "classical+agent": {"name": "stress_aware"}}


@pytest.fixture(scope="module")
def runs(tiny_bench: Benchmark, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lb_runs")
    out = {}
    for label, agent in MODELS.items():
        base = label.split("+")[0]
        evaluate(tiny_bench.root, {"backend": base, "label": base}, root / label, agent_cfg=agent,
                 progress=False, report=False)
        out[label] = root / label
    return out


def make_board(root: Path, bench: Benchmark, **limits: int) -> Board:
    (root / "tiny").mkdir(parents=True)
    lim = "".join(f"\n  {k}: {v}" for k, v in limits.items())
    (root / "tiny/board.yaml").write_text(
        f"schema_version: 1\nname: tiny\ntitle: tiny board\nbenchmark:\n  name: tiny\n"
        f"  content_hash: {bench.content_hash}\n  identity: {bench.identity}\n" + (f"limits:{lim}\n" if limits else ""))
    return load_board(root / "tiny")


def bundle(runs: dict[str, Path], tmp: Path, model: str = "random", **card: str) -> Path:
    return pack(runs[model], tmp / f"bundle-{model}", {"name": model, **card})


def test_runs_become_a_board_with_recomputed_scores(runs: dict[str, Path], tiny_bench: Benchmark,
                                                    tmp_path: Path) -> None:
    board = make_board(tmp_path / "boards", tiny_bench)
    for m in MODELS:
        v, dest = submit(bundle(runs, tmp_path, m, organisation="lab"), board, tiny_bench, resamples=200)
        assert v.ok and not v.flags and dest is not None, v.reason
    es = entries(board)
    assert [e["name"] for e in es][0] == "oracle" and len(es) == 4
    from robostress.metrics.runs import load_predictions

    own = summarize(load_predictions(runs["classical"] / "predictions.jsonl"), resamples=200).headline()
    got = next(e for e in es if e["name"] == "classical")["scores"]
    assert got.stressed.accuracy == own.stressed.accuracy
    assert got.clean.accuracy == own.clean.accuracy
    readme = (board.root / "README.md").read_text()
    assert "| 1 | oracle | 100.0 [100.0, 100.0]" in readme and "worst dimension" in readme
    html = (board.root / "index.html").read_text()
    assert "<script>" in html and html.count("<tr>") == 5 and "lighting" in html
    assert "data-v='1.000000'" in html  # numeric sort keys


def test_model_supplied_strings_are_escaped(runs: dict[str, Path], tiny_bench: Benchmark, tmp_path: Path) -> None:
    board = make_board(tmp_path / "boards", tiny_bench)
    b = bundle(runs, tmp_path, "random", organisation=EVIL, url="javascript:alert(1)")
    card = json.loads((b / "model_card.json").read_text())
    card["name"] = EVIL + " | row"
    (b / "model_card.json").write_text(json.dumps(card))
    v, _ = submit(b, board, tiny_bench, resamples=100)
    assert v.ok, v.reason
    html, md = (board.root / "index.html").read_text(), (board.root / "README.md").read_text()
    assert EVIL not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "javascript:" not in html
    assert EVIL not in md and "\\| row" in md


def _tamper(b: Path, name: str, fn) -> None:  # type: ignore[no-untyped-def]
    data = (b / name).read_bytes()
    (b / name).write_bytes(fn(data))


def _preds(b: Path) -> list[str]:
    p = b / "predictions.jsonl"
    return p.read_text().splitlines(keepends=True)


CASES = {
    "wrong benchmark hash": (lambda b: _tamper(b, "run.json", lambda d: json.dumps(
        {**json.loads(d), "benchmark": {"content_hash": "0" * 64}}).encode()), "benchmark hash"),
    "missing item": (lambda b: (b / "predictions.jsonl").write_text("".join(_preds(b)[:-1])), "have no prediction"),
    "duplicated item": (lambda b: (b / "predictions.jsonl").write_text("".join(_preds(b) + _preds(b)[:1])),
                        "is duplicated"),
    "malformed JSON": (lambda b: (b / "predictions.jsonl").write_text("".join(_preds(b)[:3]) + "{oops\n"),
                       "malformed JSON"),
    "malformed card": (lambda b: (b / "model_card.json").write_text("{"), "model_card.json is malformed JSON"),
    "unknown run schema": (lambda b: _tamper(b, "run.json", lambda d: json.dumps(
        {**json.loads(d), "schema_version": 99}).encode()), "unknown schema_version 99"),
    "unknown prediction schema": (lambda b: (b / "predictions.jsonl").write_text(
        _preds(b)[0].replace('"schema_version": 1', '"schema_version": 7') + "".join(_preds(b)[1:])),
        "unknown schema_version 7"),
    "unknown item": (lambda b: (b / "predictions.jsonl").write_text(
        "".join(_preds(b)[1:]) + _preds(b)[0].replace('"item_id": "', '"item_id": "zz')), "not in the board"),
    "oversized file": (lambda b: (b / "predictions.jsonl").write_text("".join(_preds(b)) + " " * 3_000_000),
                       "over the board's limit"),
    "path outside the bundle": (lambda b: ((b / "predictions.jsonl").rename(b.parent / "elsewhere.jsonl"),
                                           (b / "predictions.jsonl").symlink_to(b.parent / "elsewhere.jsonl")),
                                "is a link"),
    "a pickle": (lambda b: (b / "extra.pkl").write_bytes(pickle.dumps({"x": 1})), "is a pickle"),
    "a pickle by its bytes": (lambda b: (b / "run.json").write_bytes(pickle.dumps({"x": 1})), "is a pickle"),
    "a sub-folder": (lambda b: (b / "sub").mkdir(), "is a folder"),
    "gzip bomb": (lambda b: ((b / "predictions.jsonl").unlink(), (b / "predictions.jsonl.gz").write_bytes(
        gzip.compress(b"\n" * 5_000_000))), "decompresses to over"),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.slow
def test_tampered_bundles_are_refused_with_a_reason(case: str, runs: dict[str, Path], tiny_bench: Benchmark,
                                                    tmp_path: Path) -> None:
    board = make_board(tmp_path / "boards", tiny_bench, max_file_bytes=2_000_000, max_total_bytes=4_000_000)
    b = bundle(runs, tmp_path)
    assert verify(b, board, tiny_bench, resamples=50).ok  # untampered: accepted
    fn, reason = CASES[case]
    fn(b)
    v = verify(b, board, tiny_bench, resamples=50)
    assert not v.ok and reason in (v.reason or ""), v.reason
    assert "\n" not in (v.reason or "")


@pytest.mark.slow
def test_a_false_claim_and_edited_scores_are_flagged(runs: dict[str, Path], tiny_bench: Benchmark,
                                                     tmp_path: Path) -> None:
    board = make_board(tmp_path / "boards", tiny_bench)
    b = bundle(runs, tmp_path)
    true = verify(b, board, tiny_bench, resamples=50).scores.stressed.accuracy
    card = json.loads((b / "model_card.json").read_text())
    (b / "model_card.json").write_text(json.dumps({**card, "claimed": {"stressed_accuracy": round(true, 3)}}))
    assert verify(b, board, tiny_bench, resamples=50).flags == []  # an honest rounded claim passes
    (b / "model_card.json").write_text(json.dumps({**card, "claimed": {"stressed_accuracy": 0.99}}))
    lines = [json.loads(x) for x in _preds(b)]
    for r in lines:  # mark every answer correct: the recomputed score must not move
        r["correct"], r["score"] = True, 1.0
    (b / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    v = verify(b, board, tiny_bench, resamples=50)
    assert v.ok and v.scores.stressed.accuracy == true
    assert any("claimed stressed_accuracy 99.0% differs" in f for f in v.flags)
    assert any("submitted per-item scores differ" in f for f in v.flags)
    submit(b, board, tiny_bench, resamples=50)
    assert "claimed stressed_accuracy 99.0% differs" in (board.root / "index.html").read_text()


@pytest.mark.slow
def test_cli_verify_submit_build(runs: dict[str, Path], tiny_bench: Benchmark, tmp_path: Path) -> None:
    boards = tmp_path / "boards"
    make_board(boards, tiny_bench)

    def cli(*a: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "robostress.cli.main", "leaderboard", *a, "board=tiny",
                               f"boards_dir={boards}", f"benchmark_dir={tiny_bench.root}", "resamples=50"],
                              env=ENV, cwd=tmp_path, capture_output=True, text=True, timeout=300)

    r = cli("pack", str(tmp_path / "b"), f"run_dir={runs['classical']}", "card.name=classical")
    assert r.returncode == 0, r.stderr
    assert "classical: valid" in (r := cli("verify", str(tmp_path / "b"))).stdout + r.stderr
    r = cli("submit", str(tmp_path / "b"))
    assert r.returncode == 0 and (boards / "tiny/entries/classical/entry.json").is_file(), r.stderr
    again = cli("submit", str(tmp_path / "b"))
    assert again.returncode == 2 and "already has an entry 'classical'" in again.stderr
    shutil.copyfile(tmp_path / "b/run.json", tmp_path / "b/run.json.bak")
    bad = cli("verify", str(tmp_path / "b"))
    assert bad.returncode == 2 and "bundle refused: unexpected file run.json.bak" in bad.stderr
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    assert cli("build").returncode == 0 and (boards / "tiny/index.html").is_file()
    nope = cli("frobnicate")
    assert nope.returncode == 2 and "leaderboard needs an action" in nope.stderr


def test_shipped_mini_board_is_consistent(tmp_path: Path) -> None:
    """The board shipped for the default benchmark: its entries rebuild to the committed files."""
    from robostress.leaderboard import board_dir

    board = load_board(board_dir("mini"))
    es = entries(board)
    assert {e["name"] for e in es} >= {"classical", "oracle", "random", "blind", "prior", "classical+agent"}
    assert all(e["n_items"] == es[0]["n_items"] and not e["flags"] for e in es)
    assert next(e for e in es if e["name"] == "oracle")["scores"].stressed.accuracy == 1.0
    for e in es:  # predictions committed compact (gzip'd above 2 MB)
        files = list((board.entries_dir / e["slug"]).glob("predictions.jsonl*"))
        assert len(files) == 1 and files[0].stat().st_size < 2_000_000
    assert board.benchmark_identity and all(e["benchmark_identity"] == board.benchmark_identity for e in es)
    copy = load_board(Path(shutil.copytree(board.root, tmp_path / "mini")))
    build(copy)
    for name in ("README.md", "index.html"):
        assert (copy.root / name).read_bytes() == (board.root / name).read_bytes(), name


def _built_elsewhere(bench: Benchmark, dest: Path) -> Benchmark:
    """A copy of ``bench`` as another machine builds it: one frame's noise record differs (render
    noise), so its content hash differs and its identity does not."""
    from robostress.benchmark.manifest import content_hash
    from robostress.benchmark.verify import HASHED, file_sha256

    root = Path(shutil.copytree(bench.root, dest))
    lines = (root / "frames.jsonl").read_text().splitlines(keepends=True)
    rec = json.loads(lines[0])
    rec["render"]["noise"] = {**(rec["render"].get("noise") or {}), "noise": 9.9}
    lines[0] = json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n"
    (root / "frames.jsonl").write_text("".join(lines))
    m = json.loads((root / "manifest.json").read_text())
    m["files"]["frames.jsonl"] = file_sha256(root / "frames.jsonl")
    m["content_hash"] = content_hash(root, list(HASHED), list(Benchmark(root).frames.values()))
    (root / "manifest.json").write_text(json.dumps(m))
    other = Benchmark(root)
    assert other.content_hash != bench.content_hash and other.identity == bench.identity
    return other


def test_a_run_on_a_rebuild_elsewhere_is_accepted_and_a_forged_identity_is_not(
        tiny_bench: Benchmark, tmp_path: Path) -> None:
    """A newcomer's benchmark has the board's identity but not its content hash: pack, verify and
    submit succeed, and the entry's run.json names no absolute path."""
    board = make_board(tmp_path / "boards", tiny_bench)
    theirs = _built_elsewhere(tiny_bench, tmp_path / "elsewhere")
    evaluate(theirs.root, {"backend": "oracle", "label": "oracle"}, tmp_path / "run", progress=False, report=False)
    run = json.loads((tmp_path / "run/run.json").read_text())
    assert run["benchmark"]["identity"] == tiny_bench.identity and run["benchmark"]["path"].startswith("/")
    b = pack(tmp_path / "run", tmp_path / "bundle", {"name": "newcomer"})
    assert not json.loads((b / "run.json").read_text())["benchmark"]["path"].startswith("/")
    v, dest = submit(b, board, theirs, resamples=50)
    assert v.ok and not v.flags and dest is not None, v.reason
    shipped = json.loads((dest / "run.json").read_text())
    assert not any(str(x).startswith("/") for x in shipped["benchmark"].values())
    assert [e["name"] for e in entries(board)] == ["newcomer"]
    _tamper(b, "run.json", lambda d: json.dumps({**json.loads(d), "benchmark": {
        **json.loads(d)["benchmark"], "identity": "0" * 64}}).encode())
    v = verify(b, board, theirs, resamples=50)
    assert not v.ok and "benchmark hash" in (v.reason or "")
    shutil.rmtree(tmp_path / "elsewhere")
    other = _built_elsewhere(tiny_bench, tmp_path / "elsewhere")  # now a different benchmark:
    m = json.loads((other.root / "manifest.json").read_text())
    (other.root / "manifest.json").write_text(json.dumps({**m, "identity": "1" * 64}))
    from robostress.errors import DataError

    with pytest.raises(DataError, match="has identity 111111111111, but board 'tiny' is for"):
        verify(b, board, Benchmark(other.root), resamples=50)


SHIPPED = ROOT / "leaderboards"


def test_nothing_shipped_in_leaderboards_names_an_absolute_path() -> None:
    """Every shipped file, gzip'd predictions included: no machine's folders (/work, /home, ...)."""
    import re

    absolute = re.compile(r'(?<![\w.:/])(/(?:work|home|root|tmp|Users|mnt|var|opt|data|scratch)/[^\s"\']*)')
    files = [p for p in SHIPPED.rglob("*") if p.is_file()]
    assert files
    for p in files:
        data = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
        text = data.decode("utf-8", errors="replace")
        hit = absolute.search(text)
        assert hit is None, f"{p.relative_to(ROOT)}: {hit.group(1)[:80] if hit else ''}"
        if p.name == "run.json":
            run = json.loads(text)
            assert not str(run["benchmark"].get("path", "")).startswith("/"), p
