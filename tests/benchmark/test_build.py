"""Building benchmarks: layout on disk, determinism, render cache, resume, clear errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from robostress.benchmark.build import Builder
from robostress.benchmark.load import Benchmark
from robostress.errors import ConfigError, DataError, LayoutError
from robostress.scene.assets import assets_available
from tests.conftest import tiny_config

SUBS = ["global_underexposure", "occlusion", "small_scale"]


def test_tiny_benchmark_layout(tiny_bench: Benchmark) -> None:
    m = tiny_bench.manifest
    assert m["schema_version"] == 1 and len(m["content_hash"]) == 64
    assert m["counts"]["frames"] + m["counts"]["skipped"] == 1 + 16 * 3
    assert m["counts"]["items"] == len(tiny_bench.items) > 0
    for f in tiny_bench.frames.values():
        for rel in (f.image, f.mask, f.depth, f.free):
            assert tiny_bench.path(rel).is_file()
        assert tiny_bench.frames[f.clean_frame_id].stress.severity == 0
        if f.stress.severity:
            assert f.stress.realised is not None and f.stress.measure
    for it in tiny_bench.items:
        assert it.clean_item_id in {i.item_id for i in tiny_bench.items}


FAMILIES = ["tabletop"] + (["lab_tabletop"] if assets_available() else [])


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.slow
def test_two_builds_are_byte_identical(tmp_path: Path, family: str) -> None:
    cfg = tiny_config(subtypes=SUBS, family=family)
    a = Builder(cfg, tmp_path / "a", tmp_path / "cache_a").build(progress=False)
    b = Builder(cfg, tmp_path / "b", tmp_path / "cache_b").build(progress=False)
    assert a["render_stats"]["rendered"] == b["render_stats"]["rendered"] > 0  # both really rendered
    assert a["content_hash"] == b["content_hash"]
    for sub in ("images", "masks", "depth", "free"):
        names = sorted(p.name for p in (tmp_path / "a" / sub).iterdir())
        assert names == sorted(p.name for p in (tmp_path / "b" / sub).iterdir())
        for n in names:
            assert (tmp_path / "a" / sub / n).read_bytes() == (tmp_path / "b" / sub / n).read_bytes()
    for f in ("frames.jsonl", "items.jsonl", "scenes.jsonl"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


@pytest.mark.slow
def test_rebuild_renders_nothing_and_interrupted_build_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tiny_config(subtypes=SUBS)
    builder = Builder(cfg, tmp_path / "out", tmp_path / "cache")
    real = builder.renderer.render_twin  # the builder renders through render_twin (noise matching)
    calls = {"n": 0}

    def dies_after_four(plan, seed, clean=None):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > 4:
            raise KeyboardInterrupt
        return real(plan, seed, clean)

    monkeypatch.setattr(builder.renderer, "render_twin", dies_after_four)
    with pytest.raises(KeyboardInterrupt):
        builder.build(progress=False)
    with pytest.raises(DataError, match="interrupted build"):
        Benchmark(tmp_path / "out")
    resumed = Builder(cfg, tmp_path / "out", tmp_path / "cache").build(progress=False)
    total = resumed["counts"]["frames"]
    assert resumed["render_stats"]["cached"] == 4 and resumed["render_stats"]["rendered"] == total - 4
    again = Builder(cfg, tmp_path / "out", tmp_path / "cache").build(progress=False)
    assert again["render_stats"].get("rendered", 0) == 0 and again["content_hash"] == resumed["content_hash"]


@pytest.mark.parametrize("kw,err,msg", [
    ({"family": "moonbase"}, ConfigError, "unknown scene 'moonbase'"),
    ({"subtypes": ["fog"]}, ConfigError, "unknown stress sub-type 'fog'"),
    ({"severities": [1, 7]}, ConfigError, "severity must be an integer in 0..5"),
    ({"num_scenes": 0}, ConfigError, "num_scenes must be >= 1"),
])
def test_bad_build_config(tmp_path: Path, kw: dict, err: type, msg: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(err, match=msg):
        Builder(tiny_config(**kw), tmp_path / "o", tmp_path / "c").build(progress=False)


@pytest.mark.slow
def test_unlayoutable_family_is_a_layout_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import robostress.scene.sample as S

    spec = S.load_family("tabletop").model_copy(update={"object_count": (10, 10), "workspace": (0.12, 0.12)})
    monkeypatch.setattr(S, "load_family", lambda name: spec)
    # Ten objects never fit on a 12 cm table, so every layout fails alike: two draws (still a retry)
    # reach the same error as the 200 a real build tries, in 1/100 of the time.
    monkeypatch.setattr(S, "LAYOUTS", 2)
    with pytest.raises(LayoutError, match="no scene of this shard could be laid out .*does not fit"):
        Builder(tiny_config(), tmp_path / "o", tmp_path / "c").build(progress=False)


@pytest.mark.slow
def test_a_scene_that_cannot_be_laid_out_is_skipped_with_its_reason(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """One unlucky scene skips itself (recorded in skipped.jsonl) instead of stopping the build;
    with one layout draw on a cramped table, scene 0 of seed 0 has no layout and scenes 1-3 have one. Sharded builds of it merge."""
    import robostress.scene.sample as S

    spec = S.load_family("tabletop").model_copy(update={"object_count": (5, 5), "workspace": (0.25, 0.25)})
    monkeypatch.setattr(S, "load_family", lambda name: spec)
    monkeypatch.setattr(S, "LAYOUTS", 1)
    from robostress.benchmark.merge import merge_shards

    for k in range(2):  # shard 0 holds scenes 0 (no layout) and 2, shard 1 scenes 1 and 3
        cfg = tiny_config(num_scenes=4, subtypes=["occlusion"], severities=[3], shard=k, num_shards=2)
        m = Builder(cfg, tmp_path / f"s{k}", tmp_path / "c").build(progress=False)
        assert m["counts"]["scenes"] == 2 - (k == 0) and m["counts"]["skipped_scenes"] == (k == 0)
    m = merge_shards([tmp_path / "s0", tmp_path / "s1"], tmp_path / "o")
    assert m["counts"]["scenes"] == 3 and m["counts"]["skipped_scenes"] == 1
    bench = Benchmark(tmp_path / "o")
    assert sorted({f.scene_id for f in bench.frames.values()}) == [f"tabletop-0-{i:04d}" for i in (1, 2, 3)]
    rec = [json.loads(line) for line in (tmp_path / "o" / "skipped.jsonl").read_text().splitlines()]
    scene = [r for r in rec if r["frame_id"] == "tabletop-0-0000/clean"]
    assert len(scene) == 1 and scene[0]["severity"] == 0
    assert scene[0]["skipped"].startswith("the scene could not be laid out: ") and "does not fit" in scene[0]["skipped"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output_folder(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(ConfigError, match="cannot write to the output folder"):
        Builder(tiny_config(), ro / "x", tmp_path / "c").build(progress=False)


def test_output_path_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(ConfigError, match="cannot write to the output folder"):
        Builder(tiny_config(), f / "sub", tmp_path / "c").build(progress=False)


def test_manifest_of_unknown_version_is_refused(tiny_bench: Benchmark, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_bench.root, copy)
    m = json.loads((copy / "manifest.json").read_text())
    m["schema_version"] = 99
    (copy / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(DataError, match="schema_version 99 is not supported"):
        Benchmark(copy)


@pytest.mark.slow
def test_shards_partition_the_scenes_evenly(tmp_path: Path) -> None:
    """Scene i goes to shard i % n: shards differ by at most one scene and together hold each once
    (a hash split of 300 scenes into 8 shards gave 26-47 scenes per shard)."""
    ids = []
    for k in range(3):
        b = Builder(tiny_config(num_scenes=8, shard=k, num_shards=3), tmp_path / f"s{k}", tmp_path / "cache")
        ids.append([p.scene_id for p in b.scenes()])
    assert [len(x) for x in ids] == [3, 3, 2]
    assert sorted(sum(ids, [])) == sorted(f"tabletop-0-{i:04d}" for i in range(8))
    assert ids[1] == ["tabletop-0-0001", "tabletop-0-0004", "tabletop-0-0007"]
