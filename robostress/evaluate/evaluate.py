"""Evaluate a model (optionally wrapped by the stress-aware agent) and write its report."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from robostress.agent import build_agent
from robostress.benchmark.load import Benchmark
from robostress.benchmark.verify import require_whole
from robostress.errors import ConfigError
from robostress.evaluate.reuse import reusable_answers
from robostress.evaluate.runner import Runner
from robostress.lock import RunLock
from robostress.metrics import summarize
from robostress.metrics.environment import by_environment
from robostress.metrics.records import Summary
from robostress.metrics.runs import load_predictions
from robostress.models.base import Model, create_model
from robostress.models.spec import ModelSpec
from robostress.report import environment_section, write_report
from robostress.scoring.prediction import Prediction

log = logging.getLogger(__name__)


def make_model(spec: ModelSpec, run_dir: Path | None = None) -> Model:
    """Create the backend of ``spec`` and wrap it in its agent if it has one (agent images go
    under ``run_dir``)."""
    model = create_model(spec.backend, **spec.options)
    if spec.agent_name is not None:
        model = build_agent(model, dict(spec.agent or {}), work_dir=(run_dir or Path(".")) / "agent_images")
    return model


def image_grid(bench: Benchmark, preds: list[Prediction], n: int = 8) -> list[dict[str, Any]]:
    """Clean-vs-stressed rows for the report: the first ``n`` stressed items at top severity."""
    by_id = {p.item_id: p for p in preds}
    items = {i.item_id: i for i in bench.items}
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for p in preds:
        if p.severity < 4 or p.subtype in seen or p.clean_item_id not in by_id:
            continue
        c, it = by_id[p.clean_item_id], items.get(p.item_id)
        if it is None or p.clean_item_id not in items:
            continue
        seen.add(p.subtype)
        rows.append({"question": it.question, "options": list(it.options), "truth": it.answer,
                     "clean_image": str(bench.path(items[p.clean_item_id].image)),
                     "stressed_image": str(bench.path(it.image)),
                     "clean_answer": c.raw, "stressed_answer": p.raw,
                     "clean_correct": c.correct, "stressed_correct": p.correct,
                     "label": f"{p.dimension}/{p.subtype} s{p.severity}"})
        if len(rows) >= n:
            break
    return rows


def evaluate(bench_dir: Path, model_cfg: dict[str, Any], run_dir: Path, *,
             agent_cfg: dict[str, Any] | None = None, batch_size: int = 16, max_tokens: int = 64,
             limit: int | None = None, shard: int = 0, num_shards: int = 1, progress: bool = True,
             report: bool = True, reference_run: Path | None = None, allow_damaged: bool = False,
             verify_cache: Path | None = None, retry_failed: bool = False,
             reuse_run: Path | None = None) -> dict[str, Any]:
    """Run (or resume) one evaluation and write summary.json / report.md / report.html.

    The benchmark is verified first (``robostress.benchmark.verify``): a damaged one is refused
    with its bad files unless ``allow_damaged``, in which case the report says so at the top.
    With ``retry_failed`` the items whose earlier answer was a backend error are asked again.
    ``reuse_run`` (a skill ablation only: ``agent_cfg`` has ``drop_skill``) is the full agent's run
    folder: items it did not apply the removed skill to are copied from it, not asked again
    (``robostress.evaluate.reuse``).
    """
    drop_skill = (agent_cfg or {}).get("drop_skill")
    if reuse_run is not None and not drop_skill:
        raise ConfigError("reuse_run is for skill ablations: the agent config needs a drop_skill")
    bench = Benchmark(bench_dir)
    check = require_whole(bench, verify_cache, allow_damaged)
    notice = None if check.ok else (f"the benchmark is damaged ({len(check.problems)} problems: "
                                    f"{check.brief()}); it was evaluated with allow_damaged=true, so "
                                    "these numbers are not those of the published benchmark")
    spec = ModelSpec.from_config(model_cfg, agent_cfg)
    label = spec.label
    with RunLock(Path(run_dir)):
        model = make_model(spec, run_dir)
        try:
            runner = Runner(bench, model, run_dir, label=label, batch_size=batch_size,
                            max_tokens=max_tokens, shard=shard, num_shards=num_shards, limit=limit,
                            config={"model": model_cfg, "agent": agent_cfg or {"name": "none"},
                                    **({"reuse_run": str(reuse_run)} if reuse_run is not None else {})},
                            retry_failed=retry_failed)
            if reuse_run is not None:
                runner.reuse = reusable_answers(Path(reuse_run), runner, str(drop_skill))
            result = runner.run(progress=progress)
        finally:
            model.close()
        log.info("%s: %d predictions (%d new, %d resumed) in %s", label, len(result.predictions),
                 result.answered_now, result.resumed, run_dir)
        if reuse_run is not None:
            log.info("%s: %d of the %d new predictions copied from the full agent's run %s (same request)",
                     label, result.reused, result.answered_now, reuse_run)
        failed = sum(p.error is not None for p in result.predictions)
        if failed:
            log.warning("%s: %d items failed (backend errors, scored 0); rerun with retry_failed=true "
                        "to ask only those again", label, failed)
        out: dict[str, Any] = {"label": label, "run_dir": str(run_dir), "predictions": result.predictions,
                               "damaged": [str(p) for p in check.problems]}
        if report:
            out.update(write_run_report(bench, result.predictions, run_dir, label, reference_run,
                                        notice=notice))
    return out


def write_run_report(bench: Benchmark, preds: list[Prediction], run_dir: Path, label: str,
                     reference_run: Path | None = None,
                     extra_rows: Mapping[str, Summary] | None = None,
                     extra_sections: list[str] | None = None, notice: str | None = None) -> dict[str, Any]:
    """Summarise predictions (CE against ``reference_run`` if given) and write the report files."""
    ref = load_predictions(Path(reference_run) / "predictions.jsonl") if reference_run else None
    summary = summarize(preds, reference=ref or None)
    if bench.environments:  # a multi-environment build (issue 24): one more section
        extra_sections = [environment_section(by_environment(preds, bench.environments)), *(extra_sections or [])]
    files = write_report(Path(run_dir), summary, preds, title=f"robostress: {label} on "
                         f"{bench.manifest.get('name')} ({bench.content_hash[:12]})",
                         image_grid=image_grid(bench, preds), extra_rows=extra_rows,
                         extra_sections=extra_sections, notice=notice)
    return {"summary": summary, "files": files}
