"""A table of user mistakes, each run as a real `robostress` subprocess: one line, exit 2, no work.

Every row must fail in the config check, before anything is built or evaluated: the working
directory stays empty (apart from the fake benchmark some rows point at).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

BAD: list[tuple[list[str], str]] = [
    # eval: types, ranges, required values, unknown names and keys, sweeps, files
    (["eval", "batch_size=abc"], "batch_size='abc' is not allowed: batch_size must be an integer"),
    (["eval", "batch_size=-1"], "batch_size=-1 is not allowed: batch_size must be >= 1"),
    (["eval", "limit=-5"], "limit=-5 is not allowed: limit must be >= 1"),
    (["eval", "limit=0"], "limit=0 is not allowed"),
    (["eval", "limit=many"], "limit must be an integer or null"),
    (["eval", "max_tokens=0"], "max_tokens=0 is not allowed"),
    (["eval", "num_shards=0"], "num_shards=0 is not allowed"),
    (["eval", "shard=2", "num_shards=2", "benchmark_dir={fake}"], "shard must be in 0..1"),
    (["eval", "progress=maybe"], "progress must be true or false"),
    (["eval", "model=vllm"], "model.name is required: give the model's name"),
    (["eval", "model=openai"], "model.name is required"),
    (["eval", "model=vllm_offline"], "model.name is required"),
    (["eval", "model=hf"], "model.path is required: give a local model folder"),
    (["eval", "model=gpt5"], "unknown model 'gpt5'; choose one of: blind, classical,"),
    (["eval", "agent=smart"], "unknown agent 'smart'; choose one of: detect_only, none"),
    (["eval", "model=random", "model.seed=abc"], "model.seed='abc' is not allowed: model.seed must be an integer"),
    (["eval", "agent=stress_aware", "agent.threshold=high"], "agent.threshold must be a number"),
    (["eval", "agent=stress_aware", "agent.edit=maybe"], "agent.edit must be true or false"),
    (["eval", "model=vllm", "model.name=x", "model.timeout_s=2.5"], "no benchmark there"),  # a float timeout is fine
    (["eval", "batch_sise=3"], "unknown key 'batch_sise' for `robostress eval`; did you mean 'batch_size'?"),
    (["eval", "model.temprature=0"], "unknown key 'model.temprature'"),
    (["eval", "model=oracle,random"], "model=oracle,random is a sweep over several values: add -m"),
    (["eval", "-m", "batch_size=4,-2"], "batch_size=-2 is not allowed"),
    (["eval", "limit=["], "cannot parse the command line"),
    (["eval"], "no benchmark there (manifest.json is missing); run `robostress build benchmark=mini` first"),
    (["eval", "benchmark_dir={tmp}/elsewhere/tiny"],
     "run `robostress build benchmark=tiny out_dir={tmp}/elsewhere/tiny` first"),
    (["eval", "benchmark_dir={fake}", "reference_run={tmp}/none"],
     "no predictions.jsonl there; run `robostress eval model=classical"),
    # build: benchmark and renderer presets
    (["build", "benchmark.width=3"], "benchmark.width=3 is not allowed: benchmark.width must be >= 8"),
    (["build", "benchmark.height=tall"], "benchmark.height must be an integer"),
    (["build", "benchmark.num_scenes=0"], "benchmark.num_scenes=0 is not allowed"),
    (["build", "benchmark.severities=[1,9]"], "benchmark.severities=[1,9] is not allowed: severities are stressed levels 1..5"),
    (["build", "benchmark.severities=high"], "benchmark.severities must be a list"),
    (["build", "benchmark.subtypes=[fog]"], "unknown stress sub-type 'fog'"),
    (["build", "benchmark.family=moonbase"], "unknown scene 'moonbase'; choose one of: household, kitchen, kitchen_shelf, lab_tabletop, study, tabletop"),
    (["build", "benchmark=huge"], "unknown benchmark 'huge'; choose one of: compound, lab100, mini, standard, tiny, train"),
    (["build", "renderer=gpu"], "unknown renderer 'gpu'; choose one of: auto, cuda, llvm, preview, scalar"),
    (["build", "renderer.sampler=sobol"], "renderer.sampler must be one of orthogonal, multijitter"),
    (["build", "renderer.variant=gpu_rgb"], "renderer.variant must be one of auto, cuda_ad_rgb"),
    (["build", "renderer.spp=10"], "multijitter sampler needs spp"),
    (["build", "renderer.noise_ratio=0.5"], "renderer.noise_ratio=0.5 is not allowed"),
    (["build", "shard=3", "num_shards=2"], "shard=3 is not allowed: shard must be in 0..1"),
    (["build", "model=vllm"], "`robostress build` has no group 'model'"),
    (["build", "+benchmark.colour=red"], "unknown key 'benchmark.colour'"),
    (["build", "--cfg", "job", "renderer.spp=abc"], "renderer.spp must be an integer"),
    # the main job, the other commands
    (["main_model=gpt5"], "main_model: unknown model preset 'gpt5'"),
    (["agents=[smart]"], "agents: unknown agent 'smart'"),
    (["batch_size=-1"], "batch_size=-1 is not allowed"),
    (["contact-sheet"], "benchmark_dir is required"),
    (["contact-sheet", "benchmark_dir={tmp}/none"], "run `robostress build benchmark=mini out_dir="),
    (["make-tiny-vlm", "seed=-1"], "seed=-1 is not allowed"),
    (["train-detector", "eval_benchmark={tmp}/none"], "eval_benchmark={tmp}/none: no benchmark there"),
    (["frobnicate"], "unknown command 'frobnicate'"),
    # audit, leakage, calibrate
    (["audit"], "benchmark_dir is required: give a built benchmark"),
    (["audit", "benchmark_dir={tmp}/none"], "benchmark_dir={tmp}/none: no benchmark there"),
    (["audit", "benchmarks/mini"], "'benchmarks/mini' is not KEY=VALUE; `robostress audit --help` lists the keys"),
    (["leakage", "train_scenes=0"], "train_scenes=0 is not allowed: train_scenes must be >= 1"),
    (["leakage", "test_scenes=x"], "test_scenes='x' is not allowed: test_scenes must be an integer"),
    (["leakage", "family=moonbase"], "unknown scene 'moonbase'"),
    (["leakage", "clean_only=maybe"], "clean_only must be true or false"),
    (["leakage", "benchmark_dir={tmp}/none"], "benchmark_dir={tmp}/none: no benchmark there"),
    (["calibrate", "num_scenes=ten"], "num_scenes='ten' is not allowed: num_scenes must be an integer"),
    (["calibrate", "num_scenes=0"], "num_scenes=0 is not allowed: num_scenes must be >= 1"),
    (["calibrate", "5", "6"], "'5' is not KEY=VALUE; `robostress calibrate --help` lists the keys"),
    (["calibrate", "+family=kitchen_shelf"], "unknown key 'family'"),
]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robostress.cli.main", *args], env=ENV, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[Path, subprocess.CompletedProcess[str]]]:
    """Every row run once, four at a time, each in its own empty working directory."""
    base = tmp_path_factory.mktemp("bad")
    fake = base / "fake_bench"  # enough for the benchmark check; rows using it fail before loading it
    fake.mkdir()
    (fake / "manifest.json").write_text(json.dumps({"name": "fake"}))

    def one(i: int) -> tuple[Path, subprocess.CompletedProcess[str]]:
        cwd = base / f"row{i}"
        cwd.mkdir()
        args = [a.format(tmp=cwd, fake=fake) for a in BAD[i][0]]
        return cwd, _run(args, cwd)

    with ThreadPoolExecutor(4) as pool:
        return dict(enumerate(pool.map(one, range(len(BAD)))))


def test_the_table_is_large() -> None:
    assert len(BAD) >= 30
    assert len({tuple(a) for a, _ in BAD}) == len(BAD)


@pytest.mark.parametrize("i", range(len(BAD)), ids=[" ".join(a) for a, _ in BAD])
def test_bad_invocation_gives_one_line(i: int, results: dict[int, tuple[Path, subprocess.CompletedProcess[str]]]) -> None:
    cwd, r = results[i]
    expected = BAD[i][1].format(tmp=cwd)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert len(lines) in (1, 2) and lines[0].startswith("robostress: error: "), r.stderr
    if len(lines) == 2:  # only an unknown command adds the usage line
        assert lines[1].startswith("usage: robostress")
    assert expected in lines[0], lines[0]
    assert "Traceback" not in r.stderr + r.stdout
    assert list(cwd.iterdir()) == [], "the command did work before failing"
