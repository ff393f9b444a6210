"""Evaluate any robostress backend on a RoboStressBench dataset, scored under its rules.

The run goes through robostress's runner (``robostress.evaluate.runner.Runner``): the same
batching, resume, run lock, fingerprint and ``retry_failed``; only the scorer differs
(``rsb_scoring.score_rsb``). The run folder holds ``run.json``, ``predictions.jsonl`` (RoboStressBench
scores), ``rsb_summary.json``, ``rsb_report.md`` and ``submission.json``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from robostress.evaluate.evaluate import make_model
from robostress.evaluate.runner import Runner
from robostress.interop.robostressbench import RSB_SCORER_VERSION, RsbDataset
from robostress.interop.rsb_scoring import report_md, score_rsb, submission, summarize_rsb
from robostress.lock import RunLock
from robostress.models.spec import ModelSpec
from robostress.questions.item import Item
from robostress.render.io import write_atomic
from robostress.scoring import MaskLoader, ScoreResult

log = logging.getLogger(__name__)


def rsb_scorer(item: Item, raw: str, masks: MaskLoader) -> ScoreResult:
    """RoboStressBench's scorer (``rsb_scoring.score_rsb``); details also name the sample's stress
    tags and the scorer version."""
    s = score_rsb(item, raw, masks)
    return replace(s, details={**s.details, "stress_tags": list(item.truth.get("stress_tags", [])),
                               "scorer": RSB_SCORER_VERSION})


def evaluate_rsb(dataset_dir: Path, model_cfg: dict[str, Any], run_dir: Path, *, batch_size: int = 16,
                 max_tokens: int = 64, limit: int | None = None, progress: bool = True,
                 retry_failed: bool = False, dataset_version: str | None = None) -> dict[str, Any]:
    """Run (or resume) one model on a RoboStressBench dataset; write summary, report and submission."""
    data = RsbDataset(dataset_dir, dataset_version)
    run_dir = Path(run_dir)
    spec = ModelSpec.from_config(model_cfg)
    label = spec.label
    with RunLock(run_dir):
        model = make_model(spec, run_dir)
        try:
            runner = Runner(data, model, run_dir, label=label, batch_size=batch_size, scorer=rsb_scorer,
                               max_tokens=max_tokens, limit=limit, retry_failed=retry_failed,
                               config={"model": model_cfg, "dataset_dir": str(data.root),
                                       "dataset_version": data.dataset_version})
            result = runner.run(progress=progress)
        finally:
            model.close()
        order = {s.sample_id: n for n, s in enumerate(data.samples)}
        preds = sorted(result.predictions, key=lambda p: order.get(p.item_id, len(order)))
        summary = summarize_rsb(preds, {s.sample_id: s.stress_tags for s in data.samples},
                                {s.sample_id: s.task for s in data.samples})
        summary.update(label=label, dataset_version=data.dataset_version, scorer=RSB_SCORER_VERSION,
                       content_hash=data.content_hash)
        files = {"summary": run_dir / "rsb_summary.json", "report": run_dir / "rsb_report.md",
                 "submission": run_dir / "submission.json"}
        write_atomic(files["summary"], json.dumps(summary, indent=2, sort_keys=True).encode())
        write_atomic(files["report"], report_md(summary, f"RoboStressBench: {label} on "
                                                f"{data.manifest['name']} ({data.dataset_version})").encode())
        write_atomic(files["submission"], json.dumps(submission(preds, data.dataset_version), indent=1).encode())
    failed = sum(p.error is not None for p in preds)
    if failed:
        log.warning("%s: %d samples failed (backend errors, scored 0); rerun with retry_failed=true", label, failed)
    return {"label": label, "predictions": preds, "summary": summary, "files": files}
