"""The main job: build the benchmark if needed, evaluate the default model, sanity rows and the
agent, and write one per-dimension report comparing them.

The sanity rows (``SANITY_MODELS``, the ``sanity_models`` of ``conf/run.yaml``) anchor the report:
``oracle`` must be perfect, ``random`` sits on chance, and the two text-only rows, ``blind`` (fixed
rules) and ``prior`` (answer priors fitted on the train split), show how much of the benchmark
can be answered without looking at the image. ``reader`` (a small VLM trained here on clean
train-split frames, docs/reader.md) is the witness that the images carry the answers and that the
stresses hurt a model that reads them; ``reader_blind``, its text-only twin, the strongest
text-only attacker. Both need torch (the README's install has it).
"""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path
from typing import Any

import yaml

from robostress.agent.skills import SUBTYPE_SKILLS
from robostress.benchmark.build import BuildConfig, Builder
from robostress.benchmark.load import Benchmark
from robostress.benchmark.manifest import read_manifest
from robostress.benchmark.verify import verify_benchmark
from robostress.catalog import catalog_entry, yaml_problem
from robostress.errors import ConfigError, DataError
from robostress.evaluate.evaluate import evaluate, make_model, write_run_report
from robostress.metrics import Comparison, Summary, compare
from robostress.models.spec import ModelSpec
from robostress.report import ablation_section, agent_section
from robostress.report.compare import Run, write_comparison

log = logging.getLogger(__name__)
SANITY_MODELS = ("oracle", "random", "blind", "prior", "reader", "reader_blind")
HEAVY_BACKENDS = ("hf", "vllm_offline")  # loading weights twice costs too much: these fail in evaluate
CE_REFERENCE = "reader"  # the reference model of corruption error (docs/measures.md): reads the images
CE_FALLBACK = "classical"  # the weight-free reference where torch (the hf extra) is not installed


def ce_reference() -> str:
    """The model corruption error is measured against: ``reader`` (trained here on clean train-split
    frames; it beats ``classical`` by 26 points clean on lab16, docs/reader.md) where torch is
    installed, else the weight-free ``classical``, which every install can run."""
    return CE_REFERENCE if importlib.util.find_spec("torch") is not None else CE_FALLBACK


def preset(kind: str, name: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """A model preset (agents/models/<name>.yaml) or agent preset (agents/<name>.yaml), working
    directory first, with ``overrides`` merged in; a value the preset leaves required (``???``)
    must be overridden."""
    path = catalog_entry("agents", name, sub="models" if kind == "model" else "")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({yaml_problem(e)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a {kind} preset must be a mapping of keys to values")
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    data = {**data, **overrides}
    if kind == "model" and "label" in data and "${" in str(data["label"]):
        data["label"] = str(data["name"]) if overrides.get("name") else name
    missing = [k for k, v in data.items() if v == "???"]
    if missing:
        raise ConfigError(f"{kind} {name!r} needs {', '.join(missing)}: pass main_model_args.{missing[0]}=... "
                          f"(e.g. robostress main_model={name} main_model_args.{missing[0]}=...)")
    return data


def ensure_benchmark(cfg: BuildConfig, out_dir: Path, cache_dir: Path, progress: bool) -> Benchmark:
    """Reuse the benchmark at ``out_dir`` if it was built from this config, else (re)build it."""
    builder = Builder(cfg, out_dir, cache_dir)
    try:
        m = read_manifest(out_dir)
        if builder.up_to_date(m):
            check = verify_benchmark(out_dir)
            if check.ok:
                log.info("benchmark %s is up to date (%s)", out_dir, m["content_hash"][:12])
                return Benchmark(out_dir)
            log.warning("benchmark %s is damaged (%s); rebuilding it from the render cache", out_dir, check.brief(3))
    except (DataError, KeyError, TypeError):
        pass
    builder.build(progress=progress)
    return Benchmark(out_dir)


def main_job(build_cfg: BuildConfig, out_dir: Path, cache_dir: Path, runs_dir: Path, *, main_model: str,
             agents: list[str], batch_size: int, progress: bool, sanity_models: list[str] | None = None,
             skill_ablations: bool = True, main_model_args: dict[str, Any] | None = None,
             retry_failed: bool = False, ablation_reuse: bool = True) -> dict[str, Any]:
    """Run the main job; returns the report files and the per-model summaries.

    Any model preset can be the main model (``main_model_args`` fills or overrides its values,
    e.g. the served model's name for ``vllm``). A missing value stops the job at once with one
    clear line; so does an unreachable server, since HTTP backends are created (and probed) once
    before the benchmark is built. With ``ablation_reuse`` a skill ablation asks the model only
    about the items the removed skill touched and copies the full agent's identical answers for
    the rest (``robostress.evaluate.reuse``).
    """
    main_cfg = preset("model", main_model, main_model_args)
    if main_cfg.get("backend") not in HEAVY_BACKENDS:  # fail fast: unreachable server, bad values
        make_model(ModelSpec.from_config(main_cfg)).close()
    bench = ensure_benchmark(build_cfg, out_dir, cache_dir, progress)
    rows: dict[str, Summary] = {}
    # the folder `robostress eval` uses
    reference = ce_reference()
    ref_run = ModelSpec.from_config(preset("model", reference)).run_dir(runs_dir)
    sanity = list(SANITY_MODELS) if sanity_models is None else sanity_models
    order = [main_model] + ([reference] if main_model != reference else []) \
        + [m for m in sanity if m not in (main_model, reference)]
    results = {}
    for name in [reference] + [m for m in order if m != reference]:  # the reference first
        cfg = main_cfg if name == main_model else preset("model", name)
        results[name] = evaluate(bench.root, cfg, ModelSpec.from_config(cfg).run_dir(runs_dir),
                                 batch_size=batch_size, progress=progress,
                                 reference_run=ref_run if name != reference else None,
                                 retry_failed=retry_failed)
    for name in order:
        rows[results[name]["label"]] = results[name]["summary"]
    sections = []
    for agent in [a for a in agents if a != "none"]:
        agent_cfg = preset("agent", agent)
        r = evaluate(bench.root, main_cfg, ModelSpec.from_config(main_cfg, agent_cfg).run_dir(runs_dir),
                     agent_cfg=agent_cfg, batch_size=batch_size, progress=progress, reference_run=ref_run,
                     retry_failed=retry_failed)
        rows[r["label"]] = r["summary"]
        results[r["label"]] = r
        sections.append(agent_section(r["label"], compare(results[main_model]["predictions"], r["predictions"]),
                                      r["predictions"]))
    if skill_ablations and "stress_aware" in agents:
        base_agent = preset("agent", "stress_aware")
        full_run = ModelSpec.from_config(main_cfg, base_agent).run_dir(runs_dir)
        ablations: list[tuple[str, Comparison]] = []
        for skill in sorted({k for k in SUBTYPE_SKILLS.values() if k != "identity"}):
            cfg = {**base_agent, "drop_skill": skill, "label": f"agent-no-{skill}", "suffix": f"+agent-no-{skill}"}
            r = evaluate(bench.root, main_cfg, ModelSpec.from_config(main_cfg, cfg).run_dir(runs_dir),
                         agent_cfg=cfg, batch_size=batch_size, progress=progress, report=False,
                         retry_failed=retry_failed, reuse_run=full_run if ablation_reuse else None)
            ablations.append((skill, compare(results[main_model]["predictions"], r["predictions"])))
        sections.append(ablation_section(ablations))
    main = results[main_model]
    files = write_run_report(bench, main["predictions"], runs_dir, f"{main_model} (main job)",
                             reference_run=ref_run if main_model != reference else None, extra_rows=rows, extra_sections=sections)["files"]
    runs = [Run(results[k]["label"], Path(results[k]["run_dir"]), bench.content_hash, results[k]["predictions"],
                results[k]["summary"], bench.environments) for k in [*order, *(k for k in results if k not in order)]]
    files["compare"] = write_comparison(runs_dir / "compare", runs, pairs="first",
                                        title=f"robostress main job: every row against {runs[0].label}")["html"]
    (runs_dir / "rows.json").write_text(json.dumps({k: _row(v) for k, v in rows.items()}, indent=1, default=str))
    return {"files": files, "rows": rows, "benchmark": bench}


def _row(s: Summary) -> dict[str, Any]:
    """A model's row in rows.json: its clean cell, stressed cells per dimension and worst dimension."""
    w = s.worst_dimension
    return {"clean": s.clean.to_dict(), "by_dimension": {d: c.to_dict() for d, c in s.by_dimension.items()},
            "worst_dimension": w.to_dict() if w else None}

