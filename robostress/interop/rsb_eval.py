"""Evaluate any robostress backend on a RoboStressBench dataset, scored under its rules.

The run goes through robostress's runner (``robostress.evaluate.runner.Runner``): the same
batching, resume, run lock, fingerprint and ``retry_failed``; only the scorer differs
(``rsb_scoring.score_rsb``). The run folder holds ``run.json``, ``predictions.jsonl`` (RoboStressBench
scores), ``rsb_summary.json``, ``rsb_report.md`` and ``submission.json``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from robostress.errors import DataError
from robostress.evaluate.evaluate import make_model
from robostress.evaluate.runner import MAX_RAW_CHARS, Runner
from robostress.interop.robostressbench import RSB_SCORER_VERSION, RsbDataset
from robostress.interop.rsb_scoring import report_md, score_rsb, submission, summarize_rsb
from robostress.lock import RunLock
from robostress.models.base import Response
from robostress.questions.item import Item
from robostress.render.io import write_atomic
from robostress.scoring.prediction import Prediction

log = logging.getLogger(__name__)


class RsbRunner(Runner):
    """The robostress runner with RoboStressBench's scorer."""

    def predict(self, item: Item, resp: Response) -> Prediction:
        """Score one response under RoboStressBench's rules (a backend error scores 0)."""
        raw = (resp.text or "")[:MAX_RAW_CHARS]
        try:
            s = score_rsb(item, raw, self._mask)
        except DataError as e:  # a mask that cannot be read: this sample fails, the run goes on
            resp = Response(text=resp.text, latency_s=resp.latency_s, error=f"ground truth unreadable: {e}")
            s = score_rsb(item, "", lambda rel: np.zeros((1, 1), np.uint16))
        correct, score = (False, 0.0) if resp.error else (bool(s.correct), float(s.score))
        return Prediction(
            item_id=item.item_id, clean_item_id=item.clean_item_id, frame_id=item.frame_id,
            scene_id=item.scene_id, dimension=item.dimension, subtype=item.subtype,
            severity=item.severity, ability=item.ability, qtype=item.qtype, format=item.format,
            raw=raw, parsed=s.parsed, parse_error=None if resp.error else s.parse_error,
            score=score, correct=correct, chance=float(s.chance),
            details={**s.details, "stress_tags": list(item.truth.get("stress_tags", [])),
                     "scorer": RSB_SCORER_VERSION},
            latency_s=round(float(resp.latency_s), 4), prompt_tokens=resp.prompt_tokens,
            completion_tokens=resp.completion_tokens, error=resp.error,
            agent_trace=resp.extra.get("agent_trace"), model=self.label)


def evaluate_rsb(dataset_dir: Path, model_cfg: dict[str, Any], run_dir: Path, *, batch_size: int = 16,
                 max_tokens: int = 64, limit: int | None = None, progress: bool = True,
                 retry_failed: bool = False, dataset_version: str | None = None) -> dict[str, Any]:
    """Run (or resume) one model on a RoboStressBench dataset; write summary, report and submission."""
    data = RsbDataset(dataset_dir, dataset_version)
    run_dir = Path(run_dir)
    with RunLock(run_dir):
        model, label = make_model(model_cfg, None, run_dir)
        try:
            runner = RsbRunner(data, model, run_dir, label=label, batch_size=batch_size,
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
