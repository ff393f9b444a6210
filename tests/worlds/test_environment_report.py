"""The report of a multi-environment build has a per-environment section (issue 24): clean
accuracy and each dimension's paired drop per environment, computed from the scenes' plans."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from robostress.benchmark.build import Builder
from robostress.benchmark.load import Benchmark
from robostress.evaluate.evaluate import evaluate
from robostress.evaluate.main_job import preset
from robostress.metrics.environment import by_environment
from robostress.metrics.runs import load_predictions
from robostress.scene import assets as A
from tests.conftest import tiny_config

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not A.assets_available(), reason="asset packages not installed")]


@pytest.fixture(scope="module")
def household(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("household") / "b"
    cfg = tiny_config(family="household", num_scenes=3, subtypes=["global_underexposure", "small_scale"],
                      severities=[5])
    Builder(cfg, out, cache_dir).build(progress=False)
    return out


def test_report_has_a_row_per_environment_that_matches_its_scenes(household: Path, tmp_path: Path) -> None:
    bench = Benchmark(household)
    env_of = {sid: p.environment for sid, p in bench.scenes.items()}
    assert sorted(env_of.values()) == ["kitchen", "lab_tabletop", "study"]  # household draws each once in three
    run = tmp_path / "run"
    evaluate(household, preset("model", "classical"), run, progress=False)
    preds = load_predictions(run / "predictions.jsonl")
    rows = {r.environment: r for r in by_environment(preds, env_of)}
    assert sorted(rows) == ["kitchen", "lab_tabletop", "study"]
    for env, r in rows.items():
        clean = [p.correct for p in preds if p.severity == 0 and env_of[p.scene_id] == env]
        assert r.n_scenes == 1 and r.clean.n == len(clean) and r.clean.accuracy == pytest.approx(np.mean(clean))
        assert set(r.paired_by_dimension) == {"lighting", "viewpoint"}
        d = r.paired_by_dimension["lighting"]
        assert d.drop == pytest.approx(d.clean_accuracy - d.stressed_accuracy)
    md = (run / "report.md").read_text()
    assert "## Per environment" in md
    for env in rows:
        assert f"| {env} | 1 | {100 * rows[env].clean.accuracy:.1f} [" in md


def test_a_lab_build_has_no_environment_section(tiny_bench: Benchmark, tmp_path: Path) -> None:
    run = tmp_path / "run"
    evaluate(tiny_bench.root, preset("model", "random"), run, progress=False)
    assert "Per environment" not in (run / "report.md").read_text()


def test_compare_has_a_row_per_run_and_environment(household: Path, tmp_path: Path) -> None:
    """``robostress compare`` of two runs on a multi-environment build reads the environments from
    the build folder the runs name, and writes the table, its CSV and compare.json's rows."""
    import json

    from robostress.report.compare import load_runs, write_comparison

    for m in ("classical", "random"):
        evaluate(household, preset("model", m), tmp_path / m, progress=False)
    runs = load_runs([tmp_path / "classical", tmp_path / "random"], resamples=50)
    files = write_comparison(tmp_path / "cmp", runs, resamples=50)
    comp = json.loads(files["json"].read_text())
    assert set(comp["by_environment"]) == {"classical", "random"}
    preds = load_predictions(tmp_path / "classical" / "predictions.jsonl")
    env_of = {sid: p.environment for sid, p in Benchmark(household).scenes.items()}
    for row in comp["by_environment"]["classical"]:
        clean = [p.correct for p in preds if p.severity == 0 and env_of[p.scene_id] == row["environment"]]
        assert row["clean"]["accuracy"] == pytest.approx(np.mean(clean))
    csv_rows = files["environments_csv"].read_text().splitlines()
    assert csv_rows[0].startswith("model,environment,n_scenes,scope")
    assert sum(r.startswith("random,study,1,clean_accuracy") for r in csv_rows) == 1
    md = files["md"].read_text()
    assert "## Per environment" in md and "| classical | kitchen | 1 |" in md


def test_compare_of_lab_runs_has_no_environment_table(tiny_bench: Benchmark, tmp_path: Path) -> None:
    from robostress.report.compare import load_runs, write_comparison

    evaluate(tiny_bench.root, preset("model", "random"), tmp_path / "r", progress=False)
    files = write_comparison(tmp_path / "cmp", load_runs([tmp_path / "r"], resamples=50), resamples=50)
    assert "environments_csv" not in files and "Per environment" not in files["md"].read_text()


def test_audit_splits_severity_and_noise_per_environment(household: Path) -> None:
    """The audit's per-environment rows partition its scenes and add up to its global rows."""
    from robostress.benchmark.audit import NOISE_SETS, audit, format_audit

    a = audit(household)
    envs = Benchmark(household).environments
    assert set(a["environments"]) == set(envs.values()) and len(a["environments"]) > 1
    assert sum(e["scenes"] for e in a["environments"].values()) == len(envs)
    for row in a["realised"]:  # each sub-type's monotonic scenes, summed over environments
        parts = [e["monotonic"][row["subtype"]].split("/") for e in a["environments"].values()]
        assert f"{sum(int(k) for k, _ in parts)}/{sum(int(n) for _, n in parts)}" == row["monotonic_scenes"]
    for name, _ in NOISE_SETS:  # every measured stressed frame is counted in its environment
        parts = [e["noise_over"][name].split("/") for e in a["environments"].values()]
        assert sum(int(n) for _, n in parts) == a["noise_measured"][name]
        assert sum(int(k) for k, _ in parts) == a["noise_over"][name]
    text = format_audit(a)
    assert "per environment:" in text and all(f"  {env}" in text for env in a["environments"])
