"""The main job: build the benchmark if needed, evaluate the default model, sanity rows and the
agent, and write one per-dimension report comparing them."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import yaml

from robostress.benchmark.build import Builder, BuildConfig
from robostress.benchmark.load import Benchmark
from robostress.benchmark.manifest import read_manifest
from robostress.catalog import catalog_dir
from robostress.errors import ConfigError, DataError
from robostress.evaluate.evaluate import evaluate, write_run_report

log = logging.getLogger(__name__)


def preset(kind: str, name: str) -> dict[str, Any]:
    """A model preset (agents/models/<name>.yaml) or agent preset (agents/<name>.yaml)."""
    root = catalog_dir("agents") / ("models" if kind == "model" else "")
    path = root / f"{name}.yaml"
    if "/" in name or not path.is_file():
        have = sorted(p.stem for p in root.glob("*.yaml"))
        raise ConfigError(f"unknown {kind} preset {name!r}; choose one of: {', '.join(have)}")
    data = yaml.safe_load(path.read_text()) or {}
    if kind == "model" and "label" in data and "${" in str(data["label"]):
        data["label"] = name
    return data


def ensure_benchmark(cfg: BuildConfig, out_dir: Path, cache_dir: Path, progress: bool) -> Benchmark:
    """Reuse the benchmark at ``out_dir`` if it was built from this config, else (re)build it."""
    try:
        m = read_manifest(out_dir)
        same = m["config"]["family"] == cfg.family and m["config"]["num_scenes"] == cfg.num_scenes \
            and m["config"]["seed"] == cfg.seed and m["config"]["severities"] == cfg.severities \
            and m["renderer"]["width"] == cfg.render.width and m["renderer"]["spp"] == cfg.render.spp
        if same:
            log.info("benchmark %s is up to date (%s)", out_dir, m["content_hash"][:12])
            return Benchmark(out_dir)
    except DataError:
        pass
    Builder(cfg, out_dir, cache_dir).build(progress=progress)
    return Benchmark(out_dir)


def main_job(build_cfg: BuildConfig, out_dir: Path, cache_dir: Path, runs_dir: Path, *, main_model: str,
             sanity_models: list[str], agent: str, batch_size: int, progress: bool) -> dict[str, Any]:
    """Run the main job; returns the report files and the per-model summaries."""
    bench = ensure_benchmark(build_cfg, out_dir, cache_dir, progress)
    rows: dict[str, dict[str, Any]] = {}
    ref_run = runs_dir / main_model
    order = [main_model] + [m for m in sanity_models if m != main_model]
    results = {}
    for name in order:
        r = evaluate(bench.root, preset("model", name), runs_dir / name, batch_size=batch_size,
                     progress=progress, reference_run=ref_run if name != main_model else None)
        rows[name] = r["summary"]
        results[name] = r
    if agent and agent != "none":
        try:
            agent_cfg = preset("agent", agent)
        except ConfigError as e:
            log.warning("agent skipped: %s", e)
        else:
            r = evaluate(bench.root, preset("model", main_model), runs_dir / f"{main_model}+{agent}",
                         agent_cfg=agent_cfg, batch_size=batch_size, progress=progress, reference_run=ref_run)
            rows[r["label"]] = r["summary"]
            results[r["label"]] = r
    main = results[main_model]
    files = write_run_report(bench, main["predictions"], runs_dir, f"{main_model} (main job)",
                             reference_run=None, extra_rows=rows)["files"]
    (runs_dir / "rows.json").write_text(json.dumps({k: {"clean": v["clean"], "by_dimension": v["by_dimension"],
                                                        "worst_dimension": v["worst_dimension"]}
                                                    for k, v in rows.items()}, indent=1, default=str))
    return {"files": files, "rows": rows, "benchmark": bench}
