"""Skill ablations that reuse the full agent's answers: identical results, fewer model calls."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from robostress.agent import StressAwareAgent
from robostress.benchmark.load import Benchmark
from robostress.evaluate.evaluate import evaluate
from robostress.evaluate.reuse import reusable_answers, touched
from robostress.evaluate.runner import Runner
from robostress.metrics import summarize
from robostress.metrics.runs import load_predictions
from robostress.models.base import Model, Request, Response, create_model
from robostress.scoring.prediction import Prediction

pytestmark = pytest.mark.slow

SAME = ("item_id", "raw", "parsed", "parse_error", "score", "correct", "chance", "details", "error", "model")


class Counting(Model):
    """A deterministic backend (classical) that counts the requests it answers."""

    def __init__(self) -> None:
        self.inner = create_model("classical")
        self.name = self.inner.name  # the agent treats it as the single-image baseline it is
        self.calls = 0

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        self.calls += len(requests)
        return self.inner.generate(requests)

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()


def run(bench: Benchmark, run_dir: Path, *, drop: str | None = None, reuse_from: Path | None = None,
        limit: int | None = None, **agent: Any) -> tuple[list[Prediction], int, Runner]:
    base = Counting()
    model = StressAwareAgent(base, run_dir / "agent_images", drop_skill=drop, **agent)
    runner = Runner(bench, model, run_dir, label=f"classical+agent-no-{drop}" if drop else "classical+agent",
                    batch_size=7, limit=limit)
    if reuse_from is not None:
        assert drop is not None
        runner.reuse = reusable_answers(reuse_from, runner, drop)
    return runner.run(progress=False).predictions, base.calls, runner


def same(a: list[Prediction], b: list[Prediction]) -> None:
    assert [p.item_id for p in a] == [p.item_id for p in b]
    for x, y in zip(a, b, strict=True):
        assert {k: getattr(x, k) for k in SAME} == {k: getattr(y, k) for k in SAME}
        assert x.agent_trace[1]["applied"] == y.agent_trace[1]["applied"]  # type: ignore[index]
    assert summarize(a).to_json() == summarize(b).to_json()


@pytest.mark.parametrize(("detector", "drop"), [("oracle", "exposure_gamma"), ("oracle", "highlight_suppress"),
                                                ("learned", "exposure_gamma")])
def test_reusing_the_full_agent_equals_asking_again(tiny_bench: Benchmark, tmp_path: Path, detector: str,
                                                    drop: str) -> None:
    full, full_calls, _ = run(tiny_bench, tmp_path / "full", detector=detector)
    assert full_calls == len(full) == len(tiny_bench.items)
    fresh, fresh_calls, _ = run(tiny_bench, tmp_path / "fresh", drop=drop, detector=detector)
    reused, reused_calls, runner = run(tiny_bench, tmp_path / "reused", drop=drop, reuse_from=tmp_path / "full",
                                       detector=detector)
    hit = {p.item_id for p in full if touched(p, drop)}
    if detector == "oracle":  # the true stress always selects the skill: some items must be touched
        assert 0 < len(hit) < len(full)
    assert fresh_calls == len(full) and reused_calls == len(hit)
    assert set(runner.reuse) == {p.item_id for p in full} - hit
    same(fresh, reused)
    marks = {p.item_id: p.agent_trace[-1] for p in reused}  # type: ignore[index]
    assert all((m["step"] == "reused") == (i not in hit) for i, m in marks.items())
    assert all(m["from_run"] == str(tmp_path / "full") for m in marks.values() if m["step"] == "reused")
    # the file on disk holds the same answers, in item order, so a rerun resumes with nothing to ask
    assert [p.item_id for p in load_predictions(tmp_path / "reused" / "predictions.jsonl")] == [p.item_id for p in fresh]
    again, again_calls, _ = run(tiny_bench, tmp_path / "reused", drop=drop, reuse_from=tmp_path / "full",
                                detector=detector)
    assert again_calls == 0 and [p.model_dump() for p in again] == [p.model_dump() for p in reused]


def test_interrupted_reusing_ablation_resumes(tiny_bench: Benchmark, tmp_path: Path) -> None:
    full, _, _ = run(tiny_bench, tmp_path / "full", detector="oracle")
    fresh, _, _ = run(tiny_bench, tmp_path / "fresh", drop="exposure_gamma", detector="oracle")
    part, _, _ = run(tiny_bench, tmp_path / "abl", drop="exposure_gamma", reuse_from=tmp_path / "full",
                     detector="oracle", limit=len(full) // 2)  # a run stopped half way
    rest, calls, _ = run(tiny_bench, tmp_path / "abl", drop="exposure_gamma", reuse_from=tmp_path / "full",
                         detector="oracle")
    hit = {p.item_id for p in full[len(part):] if touched(p, "exposure_gamma")}
    assert calls == len(hit)
    same(fresh, rest)


def test_another_full_run_is_not_reused(tiny_bench: Benchmark, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    run(tiny_bench, tmp_path / "full", detector="oracle", threshold=0.9)  # not the ablation's full agent
    with caplog.at_level(logging.WARNING):
        preds, calls, runner = run(tiny_bench, tmp_path / "abl", drop="exposure_gamma",
                                   reuse_from=tmp_path / "full", detector="oracle")
    assert runner.reuse == {} and calls == len(preds) and "is not the full agent" in caplog.text
    _, calls, runner = run(tiny_bench, tmp_path / "abl2", drop="exposure_gamma", reuse_from=tmp_path / "nothing",
                           detector="oracle")
    assert runner.reuse == {} and calls == len(tiny_bench.items)


def test_evaluate_reuses_in_skill_ablations(tiny_bench: Benchmark, tmp_path: Path) -> None:
    """The main job's path: evaluate() with reuse_run, the full agent's run folder."""
    agent = {"name": "stress_aware", "label": "agent", "detector": "oracle"}
    model = {"backend": "classical", "label": "classical"}
    evaluate(tiny_bench.root, model, tmp_path / "full", agent_cfg=agent, progress=False, report=False)
    abl = {**agent, "drop_skill": "exposure_gamma", "label": "agent-no-exposure_gamma"}
    fresh = evaluate(tiny_bench.root, model, tmp_path / "fresh", agent_cfg=abl, progress=False)
    reused = evaluate(tiny_bench.root, model, tmp_path / "reused", agent_cfg=abl, progress=False,
                      reuse_run=tmp_path / "full")
    same(fresh["predictions"], reused["predictions"])
    assert fresh["summary"] == reused["summary"]
    n = sum(p.agent_trace[-1]["step"] == "reused" for p in reused["predictions"])
    assert 0 < n < len(reused["predictions"])
    meta = json.loads((tmp_path / "reused" / "run.json").read_text())
    assert meta["config"]["reuse_run"] == str(tmp_path / "full") and "reuse_run" not in json.loads(
        (tmp_path / "fresh" / "run.json").read_text())["config"]
    from robostress.errors import ConfigError

    with pytest.raises(ConfigError, match="reuse_run is for skill ablations"):
        evaluate(tiny_bench.root, model, tmp_path / "x", agent_cfg=agent, progress=False, reuse_run=tmp_path / "full")
