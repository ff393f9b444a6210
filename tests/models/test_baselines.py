"""Weight-free baselines on a real rendered benchmark: sanity, chance, degradation, determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from robostress.benchmark.load import Benchmark
from robostress.errors import ConfigError
from robostress.evaluate.runner import Runner, request_for
from robostress.metrics.stats import wilson
from robostress.models.base import create_model
from robostress.models.classical import Classical


def run(bench: Benchmark, name: str, tmp: Path, batch: int = 16) -> list:  # type: ignore[type-arg]
    return Runner(bench, create_model(name), tmp / f"{name}-{batch}", label=name, batch_size=batch).run(False).predictions


def test_oracle_scores_every_valid_item(tiny_bench: Benchmark, tmp_path: Path) -> None:
    preds = run(tiny_bench, "oracle", tmp_path)
    assert len(preds) == len(tiny_bench.items)
    assert all(p.correct and p.parse_error is None for p in preds)


def test_random_sits_on_chance(tiny_bench: Benchmark, tmp_path: Path) -> None:
    preds = [p for p in run(tiny_bench, "random", tmp_path) if p.format == "mc"]
    k, n = sum(p.correct for p in preds), len(preds)
    chance = float(np.mean([p.chance for p in preds]))
    lo, hi = wilson(k, n, z=3.0)
    assert lo <= chance <= hi, (k / n, chance)


def test_deterministic_backends_ignore_batch_size(tiny_bench: Benchmark, tmp_path: Path) -> None:
    for name in ("classical", "random", "blind"):
        a = run(tiny_bench, name, tmp_path, batch=1)
        b = run(tiny_bench, name, tmp_path, batch=8)
        assert [(p.item_id, p.raw, p.score) for p in a] == [(p.item_id, p.raw, p.score) for p in b]


def test_classical_degrades_with_underexposure(tiny_bench: Benchmark, tmp_path: Path) -> None:
    preds = run(tiny_bench, "classical", tmp_path)
    acc = {}
    for sev in (0, 5):
        sel = [p for p in preds if p.severity == sev and p.subtype in ("none", "global_underexposure")]
        acc[sev] = np.mean([p.correct for p in sel])
    assert acc[0] > 0.5 and acc[5] < acc[0] - 0.1, acc


def test_classical_never_reads_the_truth(tiny_bench: Benchmark) -> None:
    c = Classical()
    for item in tiny_bench.items[:60]:
        r = request_for(item, tiny_bench)
        lie = item.model_copy(update={"answer": "D" if item.answer != "D" else "A",
                                      "truth": {k: "poison" for k in item.truth}})
        r2 = r.__class__(**{**r.__dict__, "item": lie})
        assert c.generate([r])[0].text == c.generate([r2])[0].text


def test_unknown_backend_and_options() -> None:
    with pytest.raises(ConfigError, match="unknown model backend 'gpt9'.*oracle"):
        create_model("gpt9")
    with pytest.raises(ConfigError, match="unknown option"):
        create_model("random", temperature=1.0)
