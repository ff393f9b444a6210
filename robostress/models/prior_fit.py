"""Fit the ``prior`` baseline on the train split and write ``robostress/models/weights/prior.json``.

The train split is the ``train`` benchmark preset (``robostress/conf/benchmark/train.yaml``:
disjoint seeds, the split the stress detector learns from), built here *with* questions, at a
small size with the preview renderer: the prior reads only text, so image quality does not
matter, only the scenes and the question generator do. Refit after any change to either::

    from robostress.models.prior_fit import fit_on_train
    fit_on_train(num_scenes=150, severities=[3])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from robostress.benchmark.build import BuildConfig, Builder
from robostress.benchmark.load import Benchmark
from robostress.catalog import catalog_entry
from robostress.models.prior import DEFAULT_TABLE, fit, save
from robostress.questions.templates import PROMPT_VERSION
from robostress.render.renderer import render_settings

CONF = Path(__file__).resolve().parent.parent / "conf"


def train_build_config(num_scenes: int | None = None, severities: list[int] | None = None,
                       size: int = 64) -> BuildConfig:
    """BuildConfig of the train preset with questions on, preview renderer, ``size`` pixels."""
    b = yaml.safe_load((CONF / "benchmark" / "train.yaml").read_text())
    r = yaml.safe_load(catalog_entry("renderers", "preview").read_text())
    return BuildConfig(name=f"{b['name']}-prior", family=b["family"], seed=int(b["seed"]),
                       num_scenes=int(num_scenes or b["num_scenes"]), subtypes=b["subtypes"],
                       severities=list(severities or b["severities"]), questions=True,
                       render=render_settings(r, size, size))


def fit_on_train(out: Path = DEFAULT_TABLE, work_dir: Path = Path("benchmarks/train-prior"),
                 cache_dir: Path | None = None, num_scenes: int | None = None,
                 severities: list[int] | None = None, progress: bool = True) -> dict[str, Any]:
    """Build the train split with questions (resumable through the render cache), fit, save.

    Returns:
        The fitted table (also written to ``out``).
    """
    cfg = train_build_config(num_scenes, severities)
    cache = cache_dir or Path.home() / ".cache" / "robostress" / "render"
    Builder(cfg, work_dir, cache).build(progress=progress)
    bench = Benchmark(work_dir)
    source = {"benchmark": cfg.name, "content_hash": bench.content_hash, "seed": cfg.seed,
              "num_scenes": cfg.num_scenes, "severities": cfg.severities, "prompt_version": PROMPT_VERSION}
    table = fit(bench.items, source)
    save(table, out)
    return table
