"""A build with compound frames (one 48-px scene, 7 renders): each compound beside its clean twin and
its two single-factor frames, both realised measures recorded, and nothing of a build without
compounds moves (frame ids, records, identity)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from robostress.benchmark.audit import audit
from robostress.benchmark.build import BuildConfig, Builder
from robostress.benchmark.load import Benchmark
from robostress.benchmark.manifest import identity_hash
from robostress.errors import ConfigError
from robostress.stress import CompoundDesign
from tests.conftest import tiny_config

SUBS = ["global_underexposure", "small_scale", "occlusion"]


def _cfg(compound: bool) -> BuildConfig:
    design = CompoundDesign.from_config(severities=[[3, 3]], subtypes=SUBS) if compound else None
    return tiny_config(subtypes=SUBS, severities=[3], compound=design)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Benchmark, Benchmark]:
    """The same scene with and without compounds (the second build's singles come from the cache)."""
    root = tmp_path_factory.mktemp("compound")
    Builder(_cfg(True), root / "with", root / "cache").build(progress=False)
    m = Builder(_cfg(False), root / "without", root / "cache").build(progress=False)
    assert m["render_stats"].get("rendered", 0) == 0
    return Benchmark(root / "with"), Benchmark(root / "without")


def test_every_dimension_pair_has_a_compound_frame_with_both_measures(builds) -> None:  # type: ignore[no-untyped-def]
    bench, _ = builds
    comp = [f for f in bench.frames.values() if f.stress.factors is not None]
    assert {f.stress.dimension for f in comp} == {"lighting+viewpoint", "lighting+geometry", "viewpoint+geometry"}
    scene = next(iter(bench.scenes))
    for f in comp:
        a, b = f.stress.factors
        assert f.frame_id == f"{scene}/{a.subtype}/s3+{b.subtype}/s3"
        assert f.factor_frame_ids == (f"{scene}/{a.subtype}/s3", f"{scene}/{b.subtype}/s3")
        assert all(i in bench.frames for i in f.factor_frame_ids) and f.clean_frame_id == f"{scene}/clean"
        assert a.realised is not None and b.realised is not None and f.stress.realised is None
        assert f.render["noise"] is not None  # noise matched to the clean twin like any stressed frame
    under = next(f for f in comp if f.stress.subtype == "global_underexposure+small_scale")
    alone = bench.frames[f"{scene}/global_underexposure/s3"]
    # the dimming is realised on the far view as on the near one (image luminance, both dim)
    assert under.stress.factors[0].realised == pytest.approx(alone.stress.realised, abs=0.08)


def test_compound_items_point_at_their_three_twins_and_ask_the_same_text(builds) -> None:  # type: ignore[no-untyped-def]
    bench, _ = builds
    items = {i.item_id: i for i in bench.items}
    comp = [i for i in items.values() if i.factor_item_ids is not None]
    assert comp and all("+" in i.dimension and i.severity == 3 for i in comp)
    with_both = 0
    for it in comp:
        clean = items[it.clean_item_id]
        assert clean.prompt == it.prompt and clean.options == it.options  # text-only leakage: nothing new to read
        assert it.factor_item_ids == tuple(f"{f}/{it.key}" for f in bench.frames[it.frame_id].factor_frame_ids)
        with_both += all(x in items for x in it.factor_item_ids)
    assert with_both >= 0.5 * len(comp)


def test_without_compounds_nothing_moves(builds) -> None:  # type: ignore[no-untyped-def]
    bench, plain = builds
    assert set(plain.frames) == {i for i, f in bench.frames.items() if f.stress.factors is None}
    assert all(bench.frames[i] == f for i, f in plain.frames.items())
    single_items = [i for i in bench.items if i.factor_item_ids is None]
    assert [i.model_dump() for i in single_items] == [i.model_dump() for i in plain.items]
    for line in (plain.root / "frames.jsonl").read_text().splitlines():
        assert '"factor_frame_ids"' not in line and '"factors"' not in line
    assert "compound" not in plain.manifest["config"] and "compound" in bench.manifest["config"]
    for b in (bench, plain):  # the identity leaves out every realised measure, a compound's too
        assert identity_hash(b.root, list(b.frames.values())) == b.identity


def test_the_audit_measures_the_noise_of_compound_frames(builds) -> None:  # type: ignore[no-untyped-def]
    bench, _ = builds
    a = audit(bench.root)
    assert "global_underexposure+small_scale" in a["noise_ratio"]["whole"]
    assert all("+" not in r["subtype"] for r in a["realised"])  # realised-severity rows stay single-factor


def test_a_skipped_single_twin_skips_its_compounds(tmp_path: Path) -> None:
    # seen from farther away the deep shadow has no caster position: the compound is skipped, with why
    design = CompoundDesign.from_config(pairs=[["lighting", "viewpoint"]], severities=[[5, 5]],
                                        subtypes=["local_underexposure", "small_scale"])
    b = Builder(tiny_config(subtypes=["local_underexposure", "small_scale"], severities=[5], compound=design),
                tmp_path / "o", tmp_path / "c")
    plans = b.scenes()
    jobs = list(b.jobs(plans[0]))
    assert len(jobs) == 4 and jobs[-1][1].skipped.startswith("local_underexposure s5:")


@pytest.mark.parametrize("kw,msg", [
    ({"severities": [2]}, "compound severities \\[3\\] are not among"),
    ({"subtypes": ["small_scale", "occlusion"]}, "compound sub-types \\['global_underexposure'\\]"),
])
def test_a_compound_needs_its_single_twins_in_the_build(kw, msg) -> None:  # type: ignore[no-untyped-def]
    cfg = tiny_config(**{"subtypes": SUBS, "severities": [3],
                         "compound": CompoundDesign.from_config(severities=[[3, 3]], subtypes=SUBS), **kw})
    with pytest.raises(ConfigError, match=msg):
        cfg.validate()


def test_the_compound_preset_composes_into_a_design() -> None:
    from hydra import compose, initialize_config_module

    from robostress.cli.groups import build_config

    with initialize_config_module("robostress.conf", version_base="1.3"):
        cfg = compose(config_name="build", overrides=["benchmark=compound"])
    bc = build_config(cfg.benchmark, cfg.renderer)
    assert bc.num_scenes >= 8 and bc.compound is not None
    assert bc.compound.frames_per_scene() == 12 and bc.compound.needed_severities() == {2, 4}
    bc.validate()
    assert json.dumps(bc.compound.describe())


def test_the_robostressbench_export_tags_a_compound_item_with_both_factors(builds, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from robostress.interop import RsbDataset, export_rsb
    from robostress.interop.rsb_taxonomy import to_robostress

    bench, _ = builds
    export_rsb(bench.root, tmp_path / "rsb")
    items = {i.item_id: i for i in bench.items}
    meta = [json.loads(x) for x in (tmp_path / "rsb" / "metadata.jsonl").read_text().splitlines()]
    seen = 0
    for s, m in zip(RsbDataset(tmp_path / "rsb").samples, meta, strict=True):
        it = items[m["item_id"]]
        if it.factor_item_ids is None:
            continue
        seen += 1
        got = sorted(to_robostress(letter, n) for letter, names in s.stress.items() for n in names)
        assert got == sorted(zip(it.dimension.split("+"), it.subtype.split("+"), strict=True))
        assert len(m["stress_tags"]) == 2
        rec = json.loads((tmp_path / "rsb" / s.record_relpath).read_text())
        assert rec["robostress"]["factor_item_ids"] == list(it.factor_item_ids)
    assert seen == sum(i.factor_item_ids is not None for i in items.values()) > 0
