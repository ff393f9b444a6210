"""The CLI from a user's working directory: its own catalogs, run folders, multirun, help."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from robostress.catalog import catalog_dir
from robostress.models.spec import ModelSpec

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robostress.cli.main", *args], env=ENV, cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def _tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.mark.slow
def test_user_scene_family_in_the_working_directory_builds(tmp_path: Path, cache_dir: Path) -> None:
    """./scenes/myscene.yaml builds with the tiny preset; the package's catalog is untouched."""
    pkg_scenes = catalog_dir("scenes")
    before = _tree_hash(pkg_scenes)
    text = (pkg_scenes / "tabletop.yaml").read_text()
    assert "object_count:" in text
    assert text.count("name: tabletop") == 1
    lines = [ln if not ln.startswith("object_count:") else "object_count: [2, 2]"
             for ln in text.replace("name: tabletop", "name: myscene").splitlines()]
    (tmp_path / "scenes").mkdir()
    (tmp_path / "scenes" / "myscene.yaml").write_text("\n".join(lines) + "\n")
    r = cli("build", "benchmark=tiny", "benchmark.family=myscene", "benchmark.width=32", "benchmark.height=32",
            "renderer=preview", "benchmark.subtypes=[global_underexposure]", "benchmark.severities=[3]",
            f"cache_dir={cache_dir}", "progress=false", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "benchmarks/tiny/manifest.json").read_text())
    assert m["config"]["family"] == "myscene"
    scenes = [json.loads(ln) for ln in (tmp_path / "benchmarks/tiny/scenes.jsonl").read_text().splitlines()]
    assert len(scenes) == 1 and scenes[0]["family"] == "myscene"
    assert len(scenes[0]["objects"]) == 2  # the user's object_count, not the packaged tabletop's 4..7
    assert not (pkg_scenes / "myscene.yaml").exists()
    assert _tree_hash(pkg_scenes) == before
    # the same name from another directory is unknown: the family lives beside the user's runs only
    other = tmp_path / "other"
    other.mkdir()
    r = cli("build", "benchmark=tiny", "benchmark.family=myscene", cwd=other)
    assert r.returncode == 2 and "unknown scene 'myscene'" in r.stderr


@pytest.mark.slow
def test_user_model_preset_and_run_folders(tmp_path: Path, tiny_bench) -> None:  # type: ignore[no-untyped-def]
    """./agents/models/mine.yaml is a model; eval writes runs/<benchmark name>/<label>, like the main job."""
    (tmp_path / "agents" / "models").mkdir(parents=True)
    (tmp_path / "agents" / "models" / "mine.yaml").write_text("backend: random\nlabel: mine\nseed: 3\n")
    r = cli("eval", "--help", cwd=tmp_path)
    assert r.returncode == 0 and "mine" in next(ln for ln in r.stdout.splitlines() if ln.strip().startswith("model "))
    common = [f"benchmark_dir={tiny_bench.root}", "limit=12", "progress=false", "report=false"]
    r = cli("eval", "model=mine", *common, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    run = tmp_path / "runs" / "tiny" / "mine"
    assert len((run / "predictions.jsonl").read_text().splitlines()) == 12
    assert json.loads((run / "run.json").read_text())["config"]["model"]["seed"] == 3
    r = cli("eval", "model=oracle", "agent=detect_only", *common, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "runs" / "tiny" / "oracle+detect-only" / "predictions.jsonl").is_file()
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["tiny"]


@pytest.mark.slow
def test_multirun_leaves_no_empty_folders(tmp_path: Path, tiny_bench) -> None:  # type: ignore[no-untyped-def]
    r = cli("eval", "-m", "model=oracle,random", f"benchmark_dir={tiny_bench.root}", "limit=5",
            "progress=false", "report=false", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for label in ("oracle", "random"):
        assert (tmp_path / "runs" / "tiny" / label / "predictions.jsonl").is_file()
    empty = [p for p in tmp_path.rglob("*") if p.is_dir() and not any(p.iterdir())]
    assert empty == []
    sweeps = list((tmp_path / "multirun").iterdir())
    assert len(sweeps) == 1 and [p.name for p in sweeps[0].iterdir()] == ["multirun.yaml"]


def test_top_help_lists_commands_one_line_each(tmp_path: Path) -> None:
    from robostress.cli.main import COMMANDS

    r = cli("--help", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for name in COMMANDS:
        rows = [ln for ln in r.stdout.splitlines() if ln.split()[:1] == [name]]
        assert len(rows) == 1 and len(rows[0].split()) > 3, name
    assert "powered by Hydra" not in r.stdout


@pytest.mark.parametrize("cmd,groups", [
    ("build", {"benchmark", "renderer"}), ("eval", {"model", "agent"}), ("run", {"benchmark", "renderer"}),
    ("contact-sheet", set()), ("make-tiny-vlm", set()), ("train-detector", {"benchmark", "renderer"}),
    ("audit", set()), ("leakage", set()), ("calibrate", set()),
])
@pytest.mark.slow
def test_command_help_shows_only_its_groups(cmd: str, groups: set[str], tmp_path: Path) -> None:
    r = cli(cmd, "--help", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    listed = {ln.split()[0] for ln in out.split("keys (KEY=VALUE):")[0].splitlines()
              if "choose from:" in ln}
    assert listed == groups
    assert "agent/models" not in out and "powered by Hydra" not in out
    for other in {"model", "agent", "benchmark", "renderer"} - groups:
        assert f"\n  {other}." not in out


def test_eval_help_follows_the_chosen_model(tmp_path: Path) -> None:
    r = cli("eval", "model=vllm", "--help", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "model.base_url=http://127.0.0.1:8000/v1" in r.stdout and "model.name=???" in r.stdout


def run_name(model_cfg: dict[str, Any], agent_cfg: dict[str, Any] | None = None) -> str:
    return ModelSpec.from_config({"backend": "x", **model_cfg}, agent_cfg).run_name


def test_run_name_is_path_safe() -> None:
    assert run_name({"label": "Qwen/Qwen2.5-VL-7B-Instruct"}) == "Qwen--Qwen2.5-VL-7B-Instruct"
    assert run_name({"label": "classical"}, {"name": "stress_aware", "suffix": "+agent"}) == "classical+agent"
    assert run_name({"label": "classical"}, {"name": "none"}) == "classical"
    for bad in ("../../etc", "/abs/path", "a b;c", ".."):
        name = run_name({"label": bad})
        assert "/" not in name and not name.startswith(".") and " " not in name and name


@pytest.mark.slow
def test_eval_resumes_the_main_jobs_run_folder(tmp_path: Path, tiny_bench) -> None:  # type: ignore[no-untyped-def]
    """The main job's rows and `robostress eval` share runs/<benchmark>/<label>: nothing is answered twice."""
    from robostress.evaluate.evaluate import evaluate
    from robostress.evaluate.main_job import preset

    cfg = preset("model", "oracle")
    first = evaluate(tiny_bench.root, cfg, tmp_path / "runs" / "tiny" / run_name(cfg), batch_size=32,
                     progress=False, report=False)
    assert first["predictions"]
    r = cli("eval", "model=oracle", f"benchmark_dir={tiny_bench.root}", "progress=false", "report=false", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"(0 new, {len(first['predictions'])} resumed)" in r.stdout + r.stderr


def test_renderer_and_agent_presets_from_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Hydra groups read ./renderers and ./agents first; a same-named file shadows the package's."""
    from robostress.cli.validate import compose

    (tmp_path / "renderers").mkdir()
    (tmp_path / "renderers" / "preview.yaml").write_text(
        (catalog_dir("renderers") / "preview.yaml").read_text().replace("spp: 2", "spp: 4"))
    (tmp_path / "renderers" / "draft.yaml").write_text("variant: scalar_rgb\nsampler: independent\nspp: 1\nmax_depth: 3\n")
    (tmp_path / "agents").mkdir()
    (tmp_path / "agents" / "cautious.yaml").write_text(
        (catalog_dir("agents") / "stress_aware.yaml").read_text().replace("threshold: 0.4", "threshold: 0.9"))
    assert compose("build", ["renderer=preview"], "build").renderer.spp == 2
    monkeypatch.chdir(tmp_path)
    assert compose("build", ["renderer=preview"], "build").renderer.spp == 4
    draft = compose("build", ["renderer=draft"], "build").renderer
    assert (draft.sampler, draft.spp, draft.passes) == ("independent", 1, 2)  # schema default for passes
    assert compose("eval", ["agent=cautious"], "eval").agent.threshold == 0.9
    from robostress.errors import ConfigError

    (tmp_path / "renderers" / "typo.yaml").write_text("variant: auto\nsamples: 4\n")
    with pytest.raises(ConfigError, match="unknown key 'renderer.samples'"):
        compose("build", ["renderer=typo"], "build")


@pytest.mark.parametrize("path,text,args,expected", [
    ("renderers/bad.yaml", "variant: [auto\n", ["build", "renderer=bad"], "renderers/bad.yaml: not valid YAML (expected"),
    ("renderers/typo.yaml", "variant: auto\nsamples: 4\n", ["build", "renderer=typo"],
     "unknown key 'renderer.samples' (in renderer/typo) for `robostress build`; did you mean 'renderer.sampler'?"),
    ("renderers/slow.yaml", "spp: many\n", ["build", "renderer=slow"], "renderer.spp='many' (in renderer/slow) is not allowed"),
    ("agents/models/list.yaml", "- a\n- b\n", ["eval", "model=list"], "agents/models/list.yaml: a model preset must be a mapping"),
    ("agents/models/list.yaml", "- a\n", ["main_model=list", "benchmark=tiny"], "main_model: "),
    ("scenes/broken.yaml", "name: x\n  bad: [\n", ["build", "benchmark=tiny", "benchmark.family=broken"],
     "scenes/broken.yaml: not valid YAML (mapping values are not allowed here, line 2 column 6)"),
    ("scenes/assets/catalog.yaml", "schema_version: 1\ncategories: 3\n", ["build", "benchmark.family=lab_tabletop"],
     "invalid asset catalog field 'categories'"),
])
@pytest.mark.slow
def test_broken_user_catalog_file_is_one_line(path: str, text: str, args: list[str], expected: str, tmp_path: Path) -> None:
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_text(text)
    before = sorted(tmp_path.rglob("*"))
    r = cli(*args, cwd=tmp_path)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert expected in lines[0]
    assert sorted(tmp_path.rglob("*")) == before  # nothing built
