"""``robostress leakage``: the text-only leakage table, run as the real command (Hydra composition,
exit codes, one-line errors); the rows themselves are tested in tests/models/test_prior.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from robostress.benchmark.load import Benchmark

ROOT = Path(__file__).resolve().parents[2]


def leakage(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robostress.cli.main", "leakage", *args], cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_sampled_leakage_prints_a_table_per_type(tmp_path: Path) -> None:
    r = leakage("train_scenes=4", "test_scenes=4", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "lab_tabletop: prior fitted on 4 train scenes" in out and "| count |" in out and "| all |" in out
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_sampled_leakage_with_the_learned_text_model(tmp_path: Path) -> None:
    r = leakage("train_scenes=6", "test_scenes=3", "learner=logreg", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    head, learned = r.stdout.split("learned text-only model (logreg)")
    assert "| all |" in head and "| type | n | scenes | chance % | logreg % | margin (± SE) | penalty |" in learned
    assert "| category_at |" in learned and " ± " in learned  # a type every scene asks (g9 thins next_action)


@pytest.mark.slow
def test_benchmark_leakage_prints_its_table(tiny_bench: Benchmark, tmp_path: Path) -> None:
    from robostress.evaluate.leakage import format_rows
    from robostress.evaluate.leakage import leakage as rows_of

    r = leakage(f"benchmark_dir={tiny_bench.root}", "clean_only=true", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == format_rows(rows_of(tiny_bench.root, clean_only=True)) + "\n"


@pytest.mark.slow
def test_benchmark_leakage_with_the_learned_text_model(tiny_bench: Benchmark, tmp_path: Path) -> None:
    """On a built benchmark the learner is fitted on the train split's sampled scenes and scored on
    the benchmark's rendered items."""
    r = leakage(f"benchmark_dir={tiny_bench.root}", "clean_only=true", "learner=logreg", "train_scenes=6", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    head, learned = r.stdout.split("learned text-only model (logreg)")
    assert "| all |" in head and "fitted on the 6 train scenes of lab_tabletop" in learned
    assert f"scored on the rendered clean frames of {tiny_bench.root}" in learned
    n_clean = sum(1 for i in tiny_bench.items if i.severity == 0 and i.format == "mc" and i.answer is not None
                  and len(i.options) > 1)
    assert sum(int(line.split("|")[2]) for line in learned.splitlines()
               if line.startswith("| ") and not line.startswith(("| type", "| all"))) == n_clean


def test_a_benchmark_of_the_train_seed_is_not_scored_as_held_out(tiny_bench: Benchmark,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from robostress.errors import ConfigError
    from robostress.evaluate import leakage as lk

    assert len(lk.benchmark_test_items(tiny_bench.root, clean_only=True)) > 0
    monkeypatch.setattr(lk, "train_seed", lambda: int(tiny_bench.manifest["config"]["seed"]))
    with pytest.raises(ConfigError, match="built from the train split's seed"):
        lk.benchmark_test_items(tiny_bench.root)


@pytest.mark.slow
@pytest.mark.parametrize("args, message", [
    (["benchmark_dir=/no/such/benchmark"],
     "robostress: error: benchmark_dir=/no/such/benchmark: no benchmark there (manifest.json is missing)"),
    (["family=nope", "train_scenes=1", "test_scenes=1"], "robostress: error: unknown scene 'nope'"),
    (["train_scenes=0"], "train_scenes=0 is not allowed: train_scenes must be >= 1"),
    (["test_scenes=x"], "test_scenes='x' is not allowed: test_scenes must be an integer"),
    (["benchmark_dir=/no/such/benchmark", "learner=logreg"], "no benchmark there (manifest.json is missing)"),
    (["learner=svm"], "learner='svm' is not allowed"),
])
def test_leakage_command_refuses_bad_input_in_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    r = leakage(*args, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stdout == ""
    assert message in r.stderr.strip().splitlines()[-1]
    assert len(r.stderr.strip().splitlines()) == 1


def test_the_text_only_twin_answers_the_same_without_an_image(tiny_bench: Benchmark) -> None:
    """reader_blind's network zeroes its image, so it is scored on sampled (imageless) items too:
    with and without the frame its answers are the same, item for item."""
    from robostress.models.base import Request, create_model

    twin = create_model("reader_blind")
    items = [i for i in tiny_bench.items if i.severity == 0][:60]
    with_image = twin.generate([Request(id=i.item_id, prompt=i.prompt, item=i, images=(str(tiny_bench.root / i.image),))
                                for i in items])
    without = twin.generate([Request(id=i.item_id, prompt=i.prompt, item=i) for i in items])
    assert [r.error for r in without] == [None] * len(items)
    assert [r.text for r in with_image] == [r.text for r in without]
    reader = create_model("reader")  # the reader itself still needs its image
    assert "needs the item and its image" in (reader.generate([Request(id="x", prompt="x", item=items[0])])[0].error or "")


@pytest.mark.slow
def test_benchmark_leakage_with_the_text_only_twin(tiny_bench: Benchmark, tmp_path: Path) -> None:
    from robostress.evaluate.leakage import twin_rows

    r = leakage(f"benchmark_dir={tiny_bench.root}", "clean_only=true", "learner=reader_blind", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    head, twin = r.stdout.split("text-only twin (reader_blind")
    assert f"scored on the rendered clean frames of {tiny_bench.root}" in twin
    rows = twin_rows([i for i in tiny_bench.items if i.severity == 0])
    for row in rows:  # the command's rows are the function's
        assert f"| {row.qtype} | {row.n} | {row.scenes} | {100 * row.chance:.1f} | {100 * row.accuracy:.1f} |" in twin
    n_clean = sum(1 for i in tiny_bench.items if i.severity == 0 and i.format == "mc" and i.answer is not None
                  and len(i.options) > 1)
    assert sum(row.n for row in rows) == n_clean and f"| all | {n_clean} |" in twin
