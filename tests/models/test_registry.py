"""Backends by name: built-ins load lazily; installed packages add theirs through the
``robostress.models`` entry-point group (a real dist-info on a temporary sys.path entry)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from robostress.benchmark.load import Benchmark
from robostress.errors import BackendError, ConfigError
from robostress.evaluate.evaluate import make_model
from robostress.models import base
from robostress.models.base import ENTRY_POINT_GROUP, MODELS, Request, create_model
from robostress.models.spec import ModelSpec

PLUGIN = '''
from robostress.models.base import Model, Response


class Toy(Model):
    name = "toy"

    def __init__(self, answer="A"):
        self.answer = answer

    def generate(self, requests):
        return [Response(text=self.answer) for _ in requests]


def not_a_model(**kw):
    return object()
'''


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An installed package ``toy-backend`` declaring backends in the entry-point group."""
    site = tmp_path / "site"
    dist = site / "toy_backend-0.1.dist-info"
    dist.mkdir(parents=True)
    (site / "toy_backend.py").write_text(PLUGIN)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-backend\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\ntoy = toy_backend:Toy\nbroken = toy_backend_gone:Toy\n"
        "not_model = toy_backend:not_a_model\noracle = toy_backend:Toy\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(MODELS, "_items", dict(MODELS._items))  # registrations end with the test
    monkeypatch.setattr(base, "_seen_entry_points", set())
    yield site
    sys.modules.pop("toy_backend", None)


def test_builtins_are_registered_without_importing_them() -> None:
    assert {"oracle", "random", "blind", "classical", "prior", "vllm", "openai", "vllm_offline", "hf"} <= set(MODELS)
    heavy = ("torch", "transformers", "vllm", "robostress.models.hf", "robostress.models.http_client")
    code = ("import sys; from robostress.models import create_model; create_model('oracle'); "
            f"print([m for m in {heavy!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert out.stdout.strip() == "[]"


def test_unknown_backend_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match="unknown model backend 'gpt9'; choose one of: blind, classical"):
        create_model("gpt9")


def test_a_packages_entry_point_resolves_by_name(plugin: Path) -> None:
    model = make_model(ModelSpec.from_config({"backend": "toy", "label": "toy", "answer": "B"}))
    assert type(model).__module__ == "toy_backend"
    assert [r.text for r in model.generate([Request(id="x", prompt="?")])] == ["B"]
    assert "toy" in MODELS


def test_a_broken_entry_point_is_named(plugin: Path) -> None:
    with pytest.raises(BackendError) as e:
        create_model("broken")
    msg = str(e.value)
    assert "'broken'" in msg and "toy_backend_gone:Toy" in msg and "toy-backend" in msg
    assert "ModuleNotFoundError" in msg and "\n" not in msg
    with pytest.raises(BackendError, match="not_model.*made a object, not a robostress"):
        create_model("not_model")
    assert create_model("toy").generate([Request(id="x", prompt="?")])[0].text == "A"  # others still work


def test_a_builtin_name_is_not_taken_over(plugin: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="robostress.models.base"):
        create_model("toy")
    assert "ignoring entry point oracle = toy_backend:Toy" in caplog.text
    assert type(create_model("oracle")).__module__ == "robostress.models.baselines"


def test_the_cli_evaluates_an_installed_backend(plugin: Path, tmp_path: Path, tiny_bench: Benchmark) -> None:
    """``robostress eval model=toy`` with a working-directory preset naming the plugin's backend;
    a preset naming its broken entry point stops with one line naming it and exit code 2."""
    work = tmp_path / "work"
    (work / "agents" / "models").mkdir(parents=True)
    (work / "agents" / "models" / "toy.yaml").write_text("backend: toy\nlabel: toy\nanswer: A\n")
    (work / "agents" / "models" / "broken.yaml").write_text("backend: broken\nlabel: broken\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]), str(plugin)])}

    def cli(model: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "robostress.cli.main", "eval", f"model={model}",
                               f"benchmark_dir={tiny_bench.root}", "limit=4", "report=false", "progress=false"],
                              env=env, cwd=work, capture_output=True, text=True, timeout=600)

    ok = cli("toy")
    assert ok.returncode == 0, ok.stderr
    lines = (work / "runs" / "tiny" / "toy" / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 4 and all('"raw": "A"' in line for line in lines)
    bad = cli("broken")
    assert bad.returncode == 2 and "toy_backend_gone:Toy" in bad.stderr and "Traceback" not in bad.stderr
