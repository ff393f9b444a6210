"""Runs that heal: retry_failed re-asks only failed items; memory does not grow with the run."""

from __future__ import annotations

from pathlib import Path

from robostress.benchmark.load import Benchmark
from robostress.evaluate.runner import Runner
from robostress.metrics.runs import load_predictions
from robostress.models.base import Model, Request, Response, create_model
from robostress.testing.fake_vllm import FakeVLLMServer


def _vllm(srv: FakeVLLMServer) -> Model:
    return create_model("vllm", name=srv.model, base_url=srv.url, max_retries=0, timeout_s=10, concurrency=4)


def test_retry_failed_asks_only_the_failed_items_over_real_http(tiny_bench: Benchmark, tmp_path: Path) -> None:
    """An outage on every third request fails those items; a rerun without retry_failed asks
    nothing, with retry_failed asks exactly the failed items and ends with one answer each."""
    run, n, outage = tmp_path / "run", 24, [True]
    with FakeVLLMServer(faults=lambda body, i: "500" if outage[0] and i % 3 == 0 else None) as srv:
        first = Runner(tiny_bench, _vllm(srv), run, label="fake", batch_size=8, limit=n).run(progress=False)
        failed = {p.item_id for p in first.predictions if p.error}
        assert 0 < len(failed) < n
        outage[0], before = False, len(srv.requests)  # the server is back
        plain = Runner(tiny_bench, _vllm(srv), run, label="fake", batch_size=8, limit=n).run(progress=False)
        assert plain.answered_now == 0 and len(srv.requests) == before
        healed = Runner(tiny_bench, _vllm(srv), run, label="fake", batch_size=8, limit=n,
                        retry_failed=True).run(progress=False)
        asked = len(srv.requests) - before
    assert asked == len(failed) == healed.answered_now
    preds = load_predictions(run / "predictions.jsonl")
    assert sorted(p.item_id for p in preds) == sorted({p.item_id for p in first.predictions})
    assert not any(p.error for p in preds)
    kept = {p.item_id: p for p in first.predictions if not p.error}
    assert all(p == kept[p.item_id] for p in preds if p.item_id in kept)  # good answers untouched


def test_retry_failed_without_failures_changes_nothing(tiny_bench: Benchmark, tmp_path: Path) -> None:
    Runner(tiny_bench, create_model("oracle"), tmp_path, label="oracle", limit=10).run(progress=False)
    before = (tmp_path / "predictions.jsonl").read_bytes()
    r = Runner(tiny_bench, create_model("oracle"), tmp_path, label="oracle", limit=10,
               retry_failed=True).run(progress=False)
    assert r.answered_now == 0 and (tmp_path / "predictions.jsonl").read_bytes() == before


def test_masks_are_not_kept_across_batches(tiny_bench: Benchmark, tmp_path: Path) -> None:
    """The runner decodes a batch's masks and drops them: its cache never holds more than one
    batch's masks, whatever the number of items."""
    seen: list[int] = []

    class Watch(Model):
        name = "oracle"

        def __init__(self) -> None:
            self.inner = create_model("oracle")

        def generate(self, requests: list[Request]) -> list[Response]:  # type: ignore[override]
            seen.append(len(runner._masks))  # what is left from the previous batches
            return self.inner.generate(requests)

        def describe(self) -> dict:  # type: ignore[type-arg]
            return self.inner.describe()

    runner = Runner(tiny_bench, Watch(), tmp_path, label="oracle", batch_size=8)
    res = runner.run(progress=False)
    grounded = [p for p in res.predictions if p.format != "mc"]
    assert grounded, "the tiny benchmark has grounding items"
    assert seen and max(seen) == 0 and len(runner._masks) == 0


def test_agent_decodes_each_image_once_per_batch(tiny_bench: Benchmark, tmp_path: Path) -> None:
    from robostress.agent import build_agent
    from robostress.evaluate.runner import request_for

    agent = build_agent(create_model("classical"), {"name": "stress_aware", "detector": "learned"},
                        work_dir=tmp_path / "img")
    items = tiny_bench.items[:60]
    agent.generate([request_for(i, tiny_bench) for i in items])
    distinct = len({i.image for i in items})
    assert distinct < len(items)  # several questions share an image
    assert agent.decoded_images == distinct  # type: ignore[attr-defined]
    cached = [e for _, e, _ in agent._cache.values()]  # type: ignore[attr-defined]
    assert all(e.image.size == 0 for e in cached)  # edited pixels are on disk, not in memory
    files = sorted((tmp_path / "img").glob("*.png"))
    assert len(files) == len(cached)
