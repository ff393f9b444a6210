"""The stress-aware agent: edit quality against rendered clean twins, detector files, traces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from robostress.agent import SKILLS, SUBTYPE_SKILLS, LearnedDetector, StressAwareAgent, build_agent
from robostress.agent.detector import DEFAULT_WEIGHTS, features
from robostress.benchmark.build import Builder
from robostress.benchmark.load import Benchmark
from robostress.errors import ConfigError, DataError
from robostress.evaluate.runner import Runner, request_for
from robostress.models.base import create_model
from robostress.render.renderer import RenderSettings
from tests.conftest import tiny_config

MAPPED = sorted(s for s, k in SUBTYPE_SKILLS.items() if k != "identity")


@pytest.fixture(scope="module")
def pairs_bench(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Benchmark:
    from robostress.scene.assets import assets_available

    family = "lab_tabletop" if assets_available() else "tabletop"  # the benchmark the main job uses
    cfg = tiny_config(num_scenes=2, family=family, subtypes=MAPPED, severities=[3, 5], questions=False,
                      render=RenderSettings(width=96, height=96, spp=9, sampler="orthogonal", max_depth=6))
    out = tmp_path_factory.mktemp("pairs") / "b"
    Builder(cfg, out, cache_dir).build(progress=False)
    return Benchmark(out)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(float) - b.astype(float)) ** 2).mean())
    return 10 * np.log10(255 ** 2 / max(mse, 1e-9))


@pytest.mark.parametrize("subtype", MAPPED)
@pytest.mark.slow
def test_each_skill_brings_its_stress_closer_to_the_clean_twin(pairs_bench: Benchmark, subtype: str) -> None:
    before, after = [], []
    for f in pairs_bench.frames.values():
        if f.stress.subtype != subtype:
            continue
        clean = pairs_bench.image(pairs_bench.frames[f.clean_frame_id].image)
        st = pairs_bench.image(f.image)
        before.append(psnr(st, clean))
        after.append(psnr(SKILLS.get(SUBTYPE_SKILLS[subtype])(st).image, clean))
    assert before, f"no rendered {subtype} pairs"
    assert np.mean(after) > np.mean(before), (subtype, np.mean(before), np.mean(after))


@pytest.mark.parametrize(("subtype", "skill"), [("global_underexposure", "exposure_linear"),
                                                ("global_overexposure", "exposure_linear")])
@pytest.mark.slow
def test_each_optional_skill_brings_its_stress_closer_to_the_clean_twin(pairs_bench: Benchmark, subtype: str,
                                                                         skill: str) -> None:
    from robostress.agent.skills import OPTIONAL_SKILLS

    assert subtype in OPTIONAL_SKILLS[skill]
    before, after = [], []
    for f in pairs_bench.frames.values():
        if f.stress.subtype == subtype:
            clean = pairs_bench.image(pairs_bench.frames[f.clean_frame_id].image)
            st = pairs_bench.image(f.image)
            before.append(psnr(st, clean))
            after.append(psnr(SKILLS.get(skill)(st).image, clean))
    assert before and np.mean(after) > np.mean(before), (subtype, np.mean(before), np.mean(after))


def test_skills_are_deterministic_and_transforms_invert() -> None:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    for name in SKILLS.names():
        a, b = SKILLS.get(name)(img), SKILLS.get(name)(img)
        assert np.array_equal(a.image, b.image) and a.image.shape == img.shape
    from robostress.agent.skills import Transform

    t = Transform(crop=(200.0, 100.0, 600.0, 500.0))
    assert t.to_original(0, 0) == (200.0, 100.0) and t.to_original(1000, 1000) == (600.0, 500.0)
    r = Transform(rotate_deg=30.0)
    assert r.to_original(500, 500) == pytest.approx((500, 500))


def test_unknown_skill_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown edit skill 'sharpen'.*exposure_gamma"):
        StressAwareAgent(create_model("classical"), tmp_path, detector="oracle", drop_skill="sharpen")
    with pytest.raises(ConfigError, match="unknown agent option"):
        build_agent(create_model("classical"), {"name": "x", "detektor": "learned"}, tmp_path)


def test_detector_files_missing_corrupt_or_of_another_version(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="detector weights not found"):
        LearnedDetector.load(tmp_path / "none.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(DataError, match="not a valid detector file"):
        LearnedDetector.load(bad)
    x = np.random.default_rng(0).normal(size=(40, len(features(np.zeros((32, 32, 3), np.uint8)))))
    det = LearnedDetector.fit(x, ["none", "global_underexposure"] * 20, steps=50)
    good = tmp_path / "d.npz"
    det.save(good, {"sha": "x"})
    assert LearnedDetector.load(good).classes == det.classes
    z = dict(np.load(good, allow_pickle=False))
    z["format_version"] = np.array(99)
    np.savez(tmp_path / "v99.npz", **z)
    with pytest.raises(DataError, match="format_version 99 is not supported"):
        LearnedDetector.load(tmp_path / "v99.npz")
    pickled = tmp_path / "p.npz"
    np.savez(pickled, **{**z, "format_version": np.array(1), "meta": np.array([{"evil": 1}], dtype=object)})
    with pytest.raises(DataError, match="not a valid detector file"):
        LearnedDetector.load(pickled)


def test_training_is_reproducible() -> None:
    x = np.random.default_rng(1).normal(size=(60, 8))
    y = ["a", "b", "c"] * 20
    a, b = LearnedDetector.fit(x, y, seed=4, steps=200), LearnedDetector.fit(x, y, seed=4, steps=200)
    assert np.array_equal(a.w, b.w) and np.array_equal(a.b, b.b)


def test_oracle_detector_agent_traces_and_helps_under_darkness(tiny_bench: Benchmark, tmp_path: Path) -> None:
    base = Runner(tiny_bench, create_model("classical"), tmp_path / "base", label="classical").run(False).predictions
    agent = StressAwareAgent(create_model("classical"), tmp_path / "imgs", detector="oracle")
    preds = Runner(tiny_bench, agent, tmp_path / "agent", label="classical+agent").run(False).predictions
    assert all(p.agent_trace and [s["step"] for s in p.agent_trace] == ["detect", "edit", "reason"] for p in preds)
    dark = [p for p in preds if p.subtype == "global_underexposure" and p.severity == 5]
    assert all(p.agent_trace[1]["applied"] and p.agent_trace[1]["skill"] == "exposure_gamma" for p in dark)  # type: ignore[index]
    clean = [p for p in preds if p.severity == 0]
    assert all(not p.agent_trace[1]["applied"] for p in clean)  # type: ignore[index]
    acc = lambda ps: np.mean([p.correct for p in ps])  # noqa: E731
    base_dark = [p for p in base if p.subtype == "global_underexposure" and p.severity == 5]
    assert acc(dark) > acc(base_dark)


@pytest.mark.skipif(not DEFAULT_WEIGHTS.exists(), reason="no committed detector weights")
@pytest.mark.slow
def test_committed_detector_loads_and_detects_darkness() -> None:
    """The shipped detector, on the scenes it was trained for (train split: lab_tabletop, 128 px)."""
    from robostress.render.renderer import Renderer
    from robostress.scene.assets import assets_available
    from robostress.scene.sample import sample_scene
    from robostress.stress.base import apply_stress

    det = LearnedDetector.load()
    assert det.meta.get("sha") and "none" in det.classes
    if not assets_available():
        pytest.skip("the shipped detector is trained on real-asset scenes")
    r = Renderer(RenderSettings(width=128, height=128, spp=4, sampler="multijitter", max_depth=6))
    for i in range(2):
        dark, _ = apply_stress(sample_scene("lab_tabletop", 12345, i), "global_underexposure", 5)
        assert det.detect(r.render(dark, i).rgb).dimension == "lighting"


def test_vlm_detector_asks_the_wrapped_model(tiny_bench: Benchmark, tmp_path: Path) -> None:
    """The VLM-prompted detector over a loopback vLLM server that always answers 'too dark'."""
    from robostress.testing.fake_vllm import FakeVLLMServer

    def answer(body: dict) -> str:  # type: ignore[type-arg]
        text = body["messages"][-1]["content"][-1]["text"]
        return "B" if text.startswith("Which problem") else "A"

    with FakeVLLMServer(answer=answer) as srv:
        base = create_model("vllm", name=srv.model, base_url=srv.url)
        agent = StressAwareAgent(base, tmp_path, detector="vlm")
        items = [i for i in tiny_bench.items if i.subtype == "global_underexposure" and i.severity == 5][:12]
        items += [i for i in tiny_bench.items if i.severity == 0][:6]
        out = agent.generate([request_for(i, tiny_bench) for i in items])
    traces = [r.extra["agent_trace"] for r in out]
    assert all(t[0]["subtype"] == "global_underexposure" and t[2]["extra_model_calls"] == 1 for t in traces)
    assert all(t[1]["applied"] for t in traces[:12])  # dark frames are edited
    assert not any(t[1]["applied"] for t in traces[12:])  # the clean frame is already well exposed
    asked = [b for b in srv.requests if b["messages"][-1]["content"][-1]["text"].startswith("Which problem")]
    assert len(asked) == 2  # one detection call per image, not per item
    two = [b for b in srv.requests if len(b["messages"][-1]["content"]) == 3]  # original + edited + text
    assert two, "VLM backends must receive the original and the edited image"


def test_detector_evaluation_per_dimension_adds_up(tiny_bench: Benchmark, tmp_path: Path) -> None:
    """evaluate_detector's per-dimension rows partition the stressed frames and average to the totals."""
    from robostress.agent.train import dataset, evaluate_detector

    x, y, _, _ = dataset(tiny_bench, progress=False)
    res = evaluate_detector(tiny_bench, LearnedDetector.fit(x, y, steps=200), tmp_path, progress=False)
    rows = res["by_dimension_stressed"]
    stressed = [f for f in tiny_bench.frames.values() if f.stress.severity > 0]
    assert {d: r["n"] for d, r in rows.items()} == {d: sum(f.stress.dimension == d for f in stressed)
                                                   for d in {f.stress.dimension for f in stressed}}
    for key, total in (("dimension", "dimension_accuracy_stressed"), ("subtype", "subtype_accuracy_stressed")):
        assert sum(r[key] * r["n"] for r in rows.values()) / len(stressed) == pytest.approx(res[total])
    assert res["subtype_accuracy_stressed"] > 0.5  # fitted on these very frames: it must have learnt something
    assert (tmp_path / "detector_confusion_dimension.png").is_file()
