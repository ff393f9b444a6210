"""robostress compare: real runs on the tiny benchmark, one report with tables, figures and paired
differences; runs of other benchmarks are refused; the CLI takes run folders as arguments."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from robostress.benchmark.load import Benchmark
from robostress.errors import DataError
from robostress.evaluate.evaluate import evaluate
from robostress.metrics import compare
from robostress.report.compare import load_runs, tex_escape, to_csv, write_comparison

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def runs(tiny_bench: Benchmark, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for m in ("oracle", "random", "classical"):
        evaluate(tiny_bench.root, {"backend": m, "label": m}, root / m, progress=False, report=False)
        out[m] = root / m
    return out


@pytest.mark.slow
def test_compare_writes_one_report_with_tables_and_figures(runs: dict[str, Path], tmp_path: Path) -> None:
    loaded = load_runs(list(runs.values()), resamples=300)
    files = write_comparison(tmp_path, loaded, resamples=300)
    comp = json.loads(files["json"].read_text())
    assert list(comp["models"]) == ["oracle", "random", "classical"]
    assert comp["models"]["oracle"]["stressed"]["accuracy"] == 1.0
    assert len(comp["paired_differences"]) == 3  # every pair
    # the paired difference is the metrics' own paired comparison on the same items
    oracle, random = loaded[0].predictions, loaded[1].predictions
    direct = compare(oracle, random, resamples=300).to_dict()["overall"]
    d = comp["paired_differences"][0]
    assert (d["a"], d["b"]) == ("oracle", "random")
    assert d["overall"]["gain"] == pytest.approx(direct["gain"])
    assert d["overall"]["gain_ci95"] == pytest.approx(direct["gain_ci95"])
    assert d["overall"]["gain_ci95"][1] < 0  # random is worse than the oracle
    md = files["md"].read_text()
    assert "## Per dimension" in md and "## Paired differences between models" in md
    assert "| oracle | 100.0 [100.0, 100.0]" in md
    with open(files["dimensions_csv"]) as f:
        rows = list(csv.DictReader(f))
    assert {r["model"] for r in rows} == {"oracle", "random", "classical"}
    clean_random = next(r for r in rows if r["model"] == "random" and r["scope"] == "clean")
    assert float(clean_random["accuracy"]) == pytest.approx(comp["models"]["random"]["clean"]["accuracy"])
    tex = files["differences_tex"].read_text()
    assert r"\begin{tabular}" in tex and r"\toprule" in tex and "oracle & random & overall" in tex
    pngs = sorted(p.name for p in (tmp_path / "figures").glob("*.png"))
    assert "severity_curves.png" in pngs and len([p for p in pngs if p.startswith("dimension_ability")]) == 3
    html = files["html"].read_text()
    assert html.count("data:image/png;base64,") == 4


@pytest.mark.slow
def test_first_pairs_only_against_the_first_run(runs: dict[str, Path], tmp_path: Path) -> None:
    files = write_comparison(tmp_path, load_runs([runs["classical"], runs["oracle"], runs["random"]], 200),
                             pairs="first", resamples=200)
    diffs = json.loads(files["json"].read_text())["paired_differences"]
    assert [(d["a"], d["b"]) for d in diffs] == [("classical", "oracle"), ("classical", "random")]


@pytest.mark.slow
def test_runs_of_different_benchmarks_are_refused(runs: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    meta = json.loads((runs["random"] / "run.json").read_text())
    meta["benchmark"]["content_hash"] = "f" * 64
    (other / "run.json").write_text(json.dumps(meta))
    (other / "predictions.jsonl").write_bytes((runs["random"] / "predictions.jsonl").read_bytes())
    with pytest.raises(DataError, match="different benchmarks"):
        load_runs([runs["oracle"], other], 100)
    with pytest.raises(DataError, match="not a run folder"):
        load_runs([tmp_path / "nothing"], 100)


def test_hostile_labels_are_escaped_everywhere() -> None:
    assert tex_escape("a_b & 50% {x} \\ ~^$#") == (r"a\_b \& 50\% \{x\} \textbackslash{} "
                                                   r"\textasciitilde{}\textasciicircum{}\$\#")
    assert to_csv([["=cmd()", "ok", 1.5]]) == b"'=cmd(),ok,1.5\n"


@pytest.mark.slow
def test_cli_compare_takes_run_folders(runs: dict[str, Path], tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "robostress.cli.main", "compare", str(runs["oracle"]),
                        str(runs["random"]), f"out_dir={tmp_path / 'c'}", "resamples=200"],
                       env=ENV, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "c/compare.html").is_file() and "compared 2 runs: oracle, random" in r.stdout + r.stderr
    bad = subprocess.run([sys.executable, "-m", "robostress.cli.main", "compare"], env=ENV, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "compare needs run folders" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize("name", ["compare", "leaderboard"])
def test_new_primary_configs_compose(name: str) -> None:
    from hydra import compose, initialize_config_module

    with initialize_config_module("robostress.conf", version_base="1.3"):
        cfg = compose(config_name=name, overrides=["runs=[a,b]"] if name == "compare" else ["action=build"])
        assert (list(cfg.runs) == ["a", "b"]) if name == "compare" else cfg.board == "mini"
