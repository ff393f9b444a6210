"""Skill ablations that ask the model only about the items the removed skill touched.

An agent with edit skill S removed (``drop_skill=S``) sends the model exactly the request the
full agent sent for every item on which the full agent did not apply S:

- detection does not depend on the skill set: the learned detector reads image features, the
  oracle reads the item, and the VLM detector asks one skill-independent question per image;
- the skill follows from the detection alone (``SUBTYPE_SKILLS``);
- the only branch ``drop_skill`` adds (``StressAwareAgent._plan``) turns an *applied* S edit into
  "keep the original"; where the full agent kept the original anyway (another skill, no skill,
  detector unsure, edit not needed or too small) the request is the original one either way, and
  where it applied another skill the ablation applies the same edit to the same image.

So those items' predictions are copied from the full agent's run, with a ``reused`` step appended
to the agent trace that names the run they came from; only the items S touched are asked again.
The copy is allowed only when the full run's fingerprint is the one the ablation would have
without ``drop_skill`` (same benchmark, base model, detector and weights, threshold, images,
prompts, scorer and shard); otherwise every item is asked, and the log says why.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from robostress.errors import DataError
from robostress.evaluate.runner import Runner, fingerprint, read_run_meta
from robostress.metrics.runs import load_predictions
from robostress.scoring.prediction import Prediction

log = logging.getLogger(__name__)


def touched(pred: Prediction, skill: str) -> bool:
    """Whether the full agent applied ``skill`` to this item (a missing trace counts as touched)."""
    trace = pred.agent_trace or []
    if len(trace) < 2 or trace[1].get("step") != "edit":
        return True
    return bool(trace[1].get("applied")) and trace[1].get("skill") == skill


def reusable_answers(full_run: Path, runner: Runner, drop_skill: str) -> dict[str, Prediction]:
    """Predictions of ``full_run`` (the full agent) that the ablation ``runner`` would reproduce.

    Returns them relabelled for the ablation run and marked as reused; an empty dict, with a
    warning, when ``full_run`` is missing or is not the full agent of this ablation.
    """
    meta_path = Path(full_run) / "run.json"
    if not meta_path.is_file():
        log.warning("no full-agent run at %s: the ablation without %s asks every item", full_run, drop_skill)
        return {}
    desc: dict[str, Any] = runner.model.describe()
    if desc.get("drop_skill") != drop_skill:
        raise DataError(f"run {runner.label!r} does not remove skill {drop_skill!r}; nothing can be reused")
    want = fingerprint(runner.bench.content_hash, {**desc, "drop_skill": None}, runner.prompt_version,
                       (runner.shard, runner.num_shards))
    have = read_run_meta(meta_path).get("fingerprint")
    if have != want:
        log.warning("%s is not the full agent of %s (fingerprint %s, expected %s): every item is asked",
                    full_run, runner.label, have, want)
        return {}
    mark = {"step": "reused", "from_run": str(full_run), "from_fingerprint": have,
            "why": f"the full agent did not apply {drop_skill} here: the ablation's request is identical"}
    wanted = {i.item_id for i in runner.items}
    return {p.item_id: p.model_copy(update={"model": runner.label, "agent_trace": [*(p.agent_trace or []), mark]})
            for p in load_predictions(Path(full_run) / "predictions.jsonl")
            if p.item_id in wanted and p.error is None and not touched(p, drop_skill)}
