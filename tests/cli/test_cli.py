"""The Hydra CLI: every config group composes; user errors give one clear line and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from robostress.catalog import catalog_dir

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robostress.cli.main", *args], env=ENV, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("name", ["build", "eval", "run", "contact_sheet", "audit", "leakage", "calibrate"])
def test_primary_configs_compose(name: str) -> None:
    with initialize_config_module("robostress.conf", version_base="1.3"):
        cfg = compose(config_name=name, overrides=["+benchmark_dir=x"] if name == "contact_sheet" else [])
        assert cfg is not None


@pytest.mark.parametrize("group,names", [
    ("renderer", sorted(p.stem for p in catalog_dir("renderers").glob("*.yaml"))),
    ("model", sorted(p.stem for p in (catalog_dir("agents") / "models").glob("*.yaml"))),
    ("agent", sorted(p.stem for p in catalog_dir("agents").glob("*.yaml"))),
    ("benchmark", ["compound", "lab100", "mini", "standard", "train", "tiny"]),
])
def test_every_group_option_composes(group: str, names: list[str]) -> None:
    assert names
    cfg_name = "build" if group in ("renderer", "benchmark") else "eval"
    from robostress.conf.catalog_source import group_options

    if group in ("renderer", "model", "agent"):  # the config source lists the same options
        assert group_options(group) == names
    with initialize_config_module("robostress.conf", version_base="1.3"):
        for n in names:
            cfg = compose(config_name=cfg_name, overrides=[f"{group}={n}"])
            assert cfg[group] is not None


@pytest.mark.parametrize("args,msg", [
    (["build", "benchmark.family=moonbase", "out_dir={tmp}/o"], "unknown scene 'moonbase'"),
    (["build", "benchmark.severities=[1,9]", "out_dir={tmp}/o"], "benchmark.severities=[1,9] is not allowed"),
    (["build", "benchmark.subtypes=[fog]", "out_dir={tmp}/o"], "unknown stress sub-type 'fog'"),
    (["build", "renderer.spp=10", "out_dir={tmp}/o"], "multijitter sampler needs spp"),
    (["eval", "benchmark_dir={tmp}/nothing"], "manifest.json is missing); run `robostress build benchmark=mini out_dir="),
    (["eval", "model=vllm", "model.name=x", "model.base_url=http://127.0.0.1:9/v1", "benchmark_dir={bench}"],
     "cannot reach"),
    (["frobnicate"], "unknown command 'frobnicate'"),
])
@pytest.mark.slow
def test_user_errors_are_one_clear_line(args: list[str], msg: str, tmp_path: Path, tiny_bench) -> None:  # type: ignore[no-untyped-def]
    r = cli(*[a.format(tmp=tmp_path, bench=tiny_bench.root) for a in args], cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert msg in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.slow
def test_build_then_contact_sheet(tmp_path: Path) -> None:
    out = tmp_path / "b"
    r = cli("build", "benchmark=tiny", "benchmark.width=32", "benchmark.height=32", "renderer=preview",
            "benchmark.subtypes=[global_underexposure,occlusion]", f"out_dir={out}",
            f"cache_dir={tmp_path / 'c'}", "progress=false", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = cli("contact-sheet", f"benchmark_dir={out}", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    sheets = list((out / "contact_sheets").glob("*.png"))
    assert len(sheets) == 1
    from PIL import Image

    from robostress.benchmark.contact_sheet import CELL, HEAD_H, LABEL_W

    with Image.open(sheets[0]) as im:  # two sub-type rows of six severity columns
        assert im.size == (LABEL_W + 6 * CELL, HEAD_H + 2 * CELL)


@pytest.mark.slow
def test_main_job_end_to_end(tmp_path: Path, cache_dir: Path) -> None:
    """`robostress` alone: build, evaluate sanity rows, agent and ablations, write the report."""
    args = ["benchmark=tiny", "benchmark.width=48", "benchmark.height=48", "renderer=preview",
            "benchmark.subtypes=[global_underexposure,local_overexposure,occlusion]", f"cache_dir={cache_dir}",
            "progress=false"]
    r = cli(*args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    md = (tmp_path / "runs/tiny/report.md").read_text()
    for text in ("## Per dimension", "## Models side by side", "| oracle | 100.0 [100.0, 100.0]", "| prior |",
                 "## Agent: classical+agent", "## Skill ablations", "without exposure_gamma"):
        assert text in md, text
    assert "report: runs/tiny/report.html" in r.stdout + r.stderr
    again = cli(*args, cwd=tmp_path)  # a rerun resumes everything: nothing is answered twice
    assert again.returncode == 0 and "0 new" in again.stdout + again.stderr
