"""Shared fixtures: a tiny benchmark rendered once per test session with real Mitsuba."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from robostress.benchmark.build import BuildConfig, Builder
from robostress.benchmark.load import Benchmark
from robostress.render.renderer import RenderSettings
from robostress.scene.plan import ScenePlan
from robostress.scene.sample import sample_scene

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

TINY_RENDER = RenderSettings(width=48, height=48, spp=4, sampler="multijitter", max_depth=6)


def tiny_config(**kw: object) -> BuildConfig:
    """A one-scene benchmark at 48 px, 4 spp, severities 1, 3, 5."""
    base: dict[str, object] = dict(name="tiny", family="tabletop", num_scenes=1, seed=0,
                                   severities=[1, 3, 5], render=TINY_RENDER)
    base.update(kw)
    return BuildConfig(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A render cache shared by the session's builds."""
    return tmp_path_factory.mktemp("render_cache")


@pytest.fixture(scope="session")
def tiny_bench(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Benchmark:
    """The tiny benchmark, built once."""
    out = tmp_path_factory.mktemp("bench") / "tiny"
    Builder(tiny_config(), out, cache_dir).build(progress=False)
    return Benchmark(out)


@pytest.fixture(scope="session")
def lab_scenes() -> tuple[ScenePlan, ...]:
    """Scenes 0-15 of lab_tabletop, seed 0, sampled once for the session (each takes seconds: real
    assets, robot reach). Plans are frozen and sampling is seeded, so every test reads the plans a
    fresh ``sample_scene`` would give; tests/scene/test_containers.py checks exactly that."""
    return tuple(sample_scene("lab_tabletop", 0, i) for i in range(16))
