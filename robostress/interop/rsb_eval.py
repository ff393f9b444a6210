"""Evaluate any robostress backend on a RoboStressBench dataset, scored under its rules.

The run goes through robostress's runner (``robostress.evaluate.runner.Runner``): the same
batching, resume, run lock, fingerprint and ``retry_failed``; only the scorer differs
(``rsb_scoring.rsb_scorer``). The run folder holds robostress's ``run.json`` and
``predictions.jsonl``, and RoboStressBench's own files: ``predictions.json`` (per-record results),
``summary.json`` and ``submission.json`` (in its schema, samples in manifest order, which is its
arrival order with one worker), plus ``rsb_report.md`` (lenient and strict scores side by side).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from robostress.errors import ConfigError
from robostress.evaluate.evaluate import make_model
from robostress.evaluate.runner import Runner
from robostress.interop.robostressbench import RsbDataset
from robostress.interop.rsb_scoring import (
    DATASET_VERSION,
    PARSERS,
    judge,
    prediction_record,
    report_md,
    rsb_scorer,
    submission,
    summarize,
)
from robostress.lock import RunLock
from robostress.models.spec import ModelSpec
from robostress.render.io import write_atomic

log = logging.getLogger(__name__)


def _dump(obj: Any) -> bytes:
    """JSON as RoboStressBench writes it: UTF-8, not ASCII-escaped, indent 2, keys in order."""
    return json.dumps(obj, ensure_ascii=False, indent=2).encode("utf-8")


def evaluate_rsb(dataset_dir: Path, model_cfg: dict[str, Any], run_dir: Path, *, batch_size: int = 16,
                 max_tokens: int = 64, limit: int | None = None, progress: bool = True,
                 retry_failed: bool = False, dataset_version: str | None = None,
                 parser: str = "lenient") -> dict[str, Any]:
    """Run (or resume) one model on a RoboStressBench dataset; write its files (module docstring).

    Returns label, predictions, ``summaries`` (per parser), ``summary`` (the one written) and files.
    """
    t0 = time.monotonic()
    if parser not in PARSERS:
        raise ConfigError(f"rsb.parser={parser!r} is not one of {', '.join(PARSERS)}")
    data = RsbDataset(dataset_dir, parser)
    run_dir = Path(run_dir)
    spec = ModelSpec.from_config(model_cfg)
    label = spec.label
    with RunLock(run_dir):
        model = make_model(spec, run_dir)
        try:
            runner = Runner(data, model, run_dir, label=label, batch_size=batch_size, scorer=rsb_scorer(parser),
                            max_tokens=max_tokens, limit=limit, retry_failed=retry_failed,
                            config={"model": model_cfg, "dataset_dir": str(data.root), "parser": parser})
            result = runner.run(progress=progress)
        finally:
            model.close()
        by_id = {p.item_id: p for p in result.predictions}
        items = {i.item_id: i for i in data.items}
        records: dict[str, list[dict[str, Any]]] = {p: [] for p in PARSERS}
        preds = []
        for s in data.samples:  # manifest order
            pred = by_id.get(s.sample_id)
            if pred is None:
                continue  # beyond limit=
            preds.append(pred)
            item = items[s.sample_id]
            raw = None if pred.error else pred.raw
            for p in PARSERS:
                if pred.error:
                    verdict = judge(item, None, None, p)
                else:
                    verdict = {"parsed_answer": pred.details[p]["parsed_answer"], "metrics": pred.details[p]["metrics"]}
                records[p].append(prediction_record(s, item, raw, pred.error, label, verdict))
        summaries = {p: summarize(records[p]) for p in PARSERS}
        lat = [p.latency_s for p in preds]
        summary = {**summaries[parser], "model_name": label, "worker_gpus": None, "dry_run": False,
                   "timing": {"time_to_first_result_seconds": float(min(lat)) if lat else 0.0,
                              "total_wall_time_seconds": float(time.monotonic() - t0)},
                   "profiling": {}}
        files = {"predictions": run_dir / "predictions.json", "summary": run_dir / "summary.json",
                 "submission": run_dir / "submission.json", "report": run_dir / "rsb_report.md"}
        write_atomic(files["predictions"], _dump(records[parser]))
        write_atomic(files["summary"], _dump(summary))
        write_atomic(files["submission"], _dump(submission(records[parser], label,
                                                           dataset_version or DATASET_VERSION)))
        write_atomic(files["report"], report_md(summaries, f"RoboStressBench: {label} on {data.manifest['name']}",
                                                parser).encode())
    failed = sum(p.error is not None for p in preds)
    if failed:
        log.warning("%s: %d samples failed (backend errors, scored 0); rerun with retry_failed=true", label, failed)
    return {"label": label, "predictions": preds, "summary": summary, "summaries": summaries, "files": files,
            "parser": parser}
