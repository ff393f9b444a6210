"""A 3-shard build and a 3-shard eval on a real one-node SLURM (Hydra's submitit launcher), merged,
equal the unsharded build and eval: same content hash and files, same predictions, same metrics.

Needs root, ``apt-get install -y slurm-wlm munge`` and ``pip install hydra-submitit-launcher``;
skipped, saying which is missing, otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from robostress.benchmark.merge import VOLATILE
from tests import slurm_node

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
TINY = ["benchmark=tiny", "benchmark.num_scenes=3", "renderer.spp=4", "progress=false"]
SECONDS: dict[str, float] = {}


def _why_not() -> str | None:
    why = slurm_node.missing()
    if why is None:
        try:
            import hydra_plugins.hydra_submitit_launcher  # noqa: F401
        except ImportError:
            why = "the submitit launcher is not installed: pip install hydra-submitit-launcher"
    return why


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of a one-node cluster started for this module (stopped after it)."""
    why = _why_not()
    if why:
        pytest.skip(f"no one-node SLURM here: {why}")
    root = tmp_path_factory.mktemp("slurm")
    t = time.perf_counter()
    env = slurm_node.up(root)
    SECONDS["cluster up"] = time.perf_counter() - t
    yield {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    slurm_node.down(root)
    print("\nseconds:", {k: round(v, 1) for k, v in SECONDS.items()})


def cli(*args: str, cwd: Path, env: dict[str, str], what: str) -> subprocess.CompletedProcess[str]:
    """`robostress ...` as a real subprocess, timed under ``what``; fails the test on a non-zero exit.

    Without accounting, submitit does not notice a SLURM task that exits without a result (a
    robostress user error exits the task with code 2): the sweep would wait for ever, so it is cut
    after 5 minutes and the tasks' error logs are shown.
    """
    t = time.perf_counter()
    try:
        r = subprocess.run([sys.executable, "-m", "robostress.cli.main", *args], env=env, cwd=cwd,
                           capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        logs = "\n".join(f"--- {p}\n{p.read_text()[-1500:]}" for p in sorted(cwd.glob("submitit/*/*_log.err")))
        pytest.fail(f"{what}: no answer in 300 s\n{logs}")
    SECONDS[what] = time.perf_counter() - t
    assert r.returncode == 0, f"{what}: exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def on_slurm(work: Path) -> list[str]:
    """A multirun over shard=0,1,2 in which each job is a SLURM job (one CPU each)."""
    return ["shard=0,1,2", "num_shards=3", "hydra/launcher=submitit_slurm", f"hydra.sweep.dir={work}/multirun",
            f"hydra.launcher.submitit_folder={work}/submitit/%j", "hydra.launcher.cpus_per_task=1",
            "hydra.launcher.timeout_min=15", "-m"]


@pytest.fixture(scope="module")
def work(slurm: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build: 3 shards on SLURM (their own render cache) then merged; and one local process."""
    w = tmp_path_factory.mktemp("work")
    cli("build", *TINY, "out_dir=s${shard}", f"cache_dir={w}/cache-slurm", *on_slurm(w), cwd=w, env=slurm,
        what="build 3 shards on slurm")
    cli("merge", "shards=[s0,s1,s2]", "out_dir=merged", f"verify_cache={w}/vc", cwd=w, env=slurm, what="merge build")
    cli("build", *TINY, "out_dir=one", f"cache_dir={w}/cache-one", cwd=w, env=slurm, what="build unsharded")
    return w


def _manifest(path: Path) -> dict[str, object]:
    return {k: v for k, v in json.loads(path.read_text()).items() if k not in VOLATILE}


def test_three_shard_build_on_slurm_equals_one_process(work: Path) -> None:
    """Every file of the merged build equals the unsharded build's; shard frame counts within 10 %."""
    jobs = sorted((work / "submitit").glob("*_[0-2]/*_result.pkl"))
    assert len(jobs) == 3  # three SLURM array tasks ran the shards
    files = {p.relative_to(work / "one"): p for p in sorted((work / "one").rglob("*")) if p.is_file()}
    assert sorted(files) == sorted(p.relative_to(work / "merged") for p in (work / "merged").rglob("*") if p.is_file())
    differ = [str(r) for r, p in files.items() if str(r) != "manifest.json" and p.read_bytes() != (work / "merged" / r).read_bytes()]
    assert differ == []
    assert _manifest(work / "one" / "manifest.json") == _manifest(work / "merged" / "manifest.json")
    frames = [json.loads((work / f"s{k}" / "manifest.json").read_text())["counts"]["frames"] for k in range(3)]
    assert sum(frames) == json.loads((work / "one" / "manifest.json").read_text())["counts"]["frames"] > 100
    assert max(frames) <= 1.1 * min(frames), frames


def _preds(run: Path) -> list[dict[str, object]]:
    return [{k: v for k, v in json.loads(ln).items() if k != "latency_s"}
            for ln in (run / "predictions.jsonl").read_text().splitlines()]


def test_three_shard_eval_on_slurm_equals_one_process(work: Path, slurm: dict[str, str]) -> None:
    """The deterministic classical baseline: same predictions, same summary.json, same fingerprint;
    shard item counts within 10 %."""
    common = ["model=classical", "benchmark_dir=merged", f"verify_cache={work}/vc", "progress=false"]
    cli("eval", *common, "run_dir=r${shard}", "report=false", *on_slurm(work), cwd=work, env=slurm,
        what="eval 3 shards on slurm")
    cli("merge", "runs=[r0,r1,r2]", "out_dir=merged-run", cwd=work, env=slurm, what="merge eval")
    cli("eval", *common, "run_dir=one-run", cwd=work, env=slurm, what="eval unsharded")
    one, merged = _preds(work / "one-run"), _preds(work / "merged-run")
    assert len(one) > 1000 and one == merged
    assert 0 < sum(bool(p["correct"]) for p in one) < len(one)
    assert (work / "one-run" / "summary.json").read_bytes() == (work / "merged-run" / "summary.json").read_bytes()
    meta = [json.loads((work / r / "run.json").read_text()) for r in ("one-run", "merged-run")]
    assert meta[0]["fingerprint"] == meta[1]["fingerprint"]
    sizes = [len(_preds(work / f"r{k}")) for k in range(3)]
    assert max(sizes) <= 1.1 * min(sizes), sizes
