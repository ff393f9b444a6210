"""The main job reuses a built benchmark only if it was built from the same recipe: preset,
renderer settings and versions (a changed renderer, sub-type list, compound design or question
generator once left a stale `mini` in place, reported as up to date)."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import pytest

from robostress.benchmark.build import Builder
from robostress.benchmark.load import Benchmark
from robostress.evaluate.main_job import ensure_benchmark
from robostress.stress.compound import CompoundDesign
from tests.conftest import TINY_RENDER, tiny_config


def _manifest(b: Benchmark) -> dict:  # type: ignore[type-arg]
    return json.loads((b.root / "manifest.json").read_text())


def test_the_recipe_of_the_same_config_matches_the_manifest(tiny_bench: Benchmark, cache_dir: Path,
                                                            tmp_path: Path) -> None:
    assert Builder(tiny_config(), tmp_path / "x", cache_dir).up_to_date(_manifest(tiny_bench))


@pytest.mark.parametrize("change", [
    {"render": dataclasses.replace(TINY_RENDER, spp_ladder=(1, 2, 4, 8))},
    {"render": dataclasses.replace(TINY_RENDER, denoise=None)},
    {"subtypes": ["occlusion"]},
    {"questions": False},
    {"compound": CompoundDesign.from_config("all", [[3, 3]], seed=0)},
])
def test_any_change_of_config_or_renderer_is_not_up_to_date(tiny_bench: Benchmark, cache_dir: Path,
                                                            tmp_path: Path, change: dict) -> None:  # type: ignore[type-arg]
    assert not Builder(tiny_config(**change), tmp_path / "x", cache_dir).up_to_date(_manifest(tiny_bench))


@pytest.mark.parametrize("key, value", [("generator", "g0"), ("prompt", "p0"), ("frame", -1)])
def test_other_versions_are_not_up_to_date(tiny_bench: Benchmark, cache_dir: Path, tmp_path: Path,
                                           key: str, value: object) -> None:
    m = _manifest(tiny_bench)
    m["versions"][key] = value
    assert not Builder(tiny_config(), tmp_path / "x", cache_dir).up_to_date(m)


def test_ensure_benchmark_reuses_an_up_to_date_folder_and_rebuilds_a_stale_one(
        cache_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = tiny_config(subtypes=["occlusion"], severities=[3])
    out = tmp_path / "b"
    first = ensure_benchmark(cfg, out, cache_dir, progress=False)
    built = (out / "manifest.json").stat().st_mtime_ns
    with caplog.at_level(logging.INFO):
        again = ensure_benchmark(cfg, out, cache_dir, progress=False)
    assert "is up to date" in caplog.text and (out / "manifest.json").stat().st_mtime_ns == built
    assert again.content_hash == first.content_hash
    caplog.clear()
    with caplog.at_level(logging.INFO):
        other = ensure_benchmark(tiny_config(subtypes=["occlusion", "small_scale"], severities=[3]), out,
                                 cache_dir, progress=False)
    assert "is up to date" not in caplog.text
    assert set(_manifest(other)["config"]["subtypes"]) == {"occlusion", "small_scale"}
    assert any("small_scale" in fid for fid in other.frames)
