"""center_zoom: the edit for small_scale, the per-agent skill map, and points in questions moved
onto the edited image."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from robostress.agent import SUBTYPE_SKILLS, StressAwareAgent, build_agent
from robostress.agent.detector import Detection
from robostress.agent.skills import CENTER_ZOOM, Transform, center_zoom
from robostress.agent.train import fit_gate
from robostress.benchmark.build import Builder
from robostress.benchmark.load import Benchmark
from robostress.errors import ConfigError
from robostress.evaluate.runner import request_for
from robostress.models.base import Model, Request, Response, create_model
from robostress.render.renderer import RenderSettings
from tests.conftest import tiny_config


@pytest.fixture(scope="module")
def zoom_bench(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Benchmark:
    from robostress.scene.assets import assets_available

    family = "lab_tabletop" if assets_available() else "tabletop"
    cfg = tiny_config(num_scenes=2, family=family, subtypes=["small_scale"], severities=[1, 2, 3, 4, 5],
                      questions=False, render=RenderSettings(width=64, height=64, spp=1, noise_ratio=None))
    out = tmp_path_factory.mktemp("zoom") / "b"
    Builder(cfg, out, cache_dir).build(progress=False)
    return Benchmark(out)


def _crop_mask(h: int, w: int, box: tuple[float, float, float, float]) -> np.ndarray:
    """Pixels whose centre lies inside a permille box."""
    xs, ys = (np.arange(w) + 0.5) / w * 1000, (np.arange(h) + 0.5) / h * 1000
    return ((ys[:, None] >= box[1]) & (ys[:, None] <= box[3])) & ((xs[None, :] >= box[0]) & (xs[None, :] <= box[2]))


@pytest.mark.slow
def test_center_zoom_crops_nothing_of_what_the_clean_view_shows(zoom_bench: Benchmark) -> None:
    """small_scale dollies back about the image centre: the objects the clean frame shows stay
    inside the zoom's crop at every severity (the dolly's smallest factor is the zoom)."""
    for f in zoom_bench.frames.values():
        if f.stress.severity == 0:
            continue
        clean = zoom_bench.frames[f.clean_frame_id]
        ids = zoom_bench.mask(f.mask)
        names = {v: int(k) for k, v in f.id_map.items()}
        shown = [o for o in clean.id_map.values() if o.startswith("obj") and o in names]
        assert shown, "no object in view"
        inside = _crop_mask(*ids.shape, center_zoom(zoom_bench.image(f.image)).transform.crop)
        obj = np.isin(ids, [names[o] for o in shown])
        kept = float((obj & inside).sum() / max(obj.sum(), 1))
        assert kept >= 0.98, (f.frame_id, f.stress.severity, kept)


def test_center_zoom_enlarges_about_the_centre_and_maps_back() -> None:
    img = np.zeros((100, 100, 3), np.uint8)
    img[45:55, 45:55] = 255  # a 10 px square at the centre
    e = center_zoom(img, zoom=2.0)
    assert e.transform.crop == pytest.approx((250.0, 250.0, 750.0, 750.0))
    assert int((e.image[..., 0] > 127).sum()) == pytest.approx(400, abs=40)  # 20 x 20 px after a 2x zoom
    ys, xs = np.nonzero(e.image[..., 0] > 127)
    assert xs.mean() == pytest.approx(49.5, abs=0.6) and ys.mean() == pytest.approx(49.5, abs=0.6)
    t = Transform(crop=(250.0, 250.0, 750.0, 750.0), rotate_deg=20.0)
    assert t.to_original(*t.to_edited(300.0, 640.0)) == pytest.approx((300.0, 640.0))
    assert CENTER_ZOOM == 1.3


class _Echo(Model):
    """Records what it was asked; answers the centre of the image."""

    name = "echo"
    reads_one_image = True  # the agent sends it the edited image alone

    def __init__(self) -> None:
        self.seen: list[Request] = []

    def describe(self) -> dict[str, str]:
        return {"backend": "echo"}

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        self.seen += list(requests)
        return [Response(text="[500, 500]" if r.item and r.item.format == "point" else "A") for r in requests]


class _SeesSmallScale:
    meta = {"sha": "fixed", "thresholds": {"exposure_gamma": 0.7, "highlight_suppress": 0.9, "center_zoom": 0.5}}

    def detect(self, rgb: np.ndarray) -> Detection:
        return Detection("small_scale", "viewpoint", 0.9, {"small_scale": 0.9, "none": 0.1})


def _agent(tmp_path: Path, base: Model) -> StressAwareAgent:
    agent = StressAwareAgent(base, tmp_path, detector="oracle", skills={"small_scale": "center_zoom"})
    agent.detector, agent.threshold = _SeesSmallScale(), "fitted"
    agent.thresholds = agent._thresholds("fitted")
    return agent


def test_a_point_the_question_names_moves_onto_the_zoomed_image(tiny_bench: Benchmark, tmp_path: Path) -> None:
    items = [i for i in tiny_bench.items if "point (" in i.question]  # the detector below sees small_scale anywhere
    assert items, "no question naming a point in the tiny benchmark"
    base = _Echo()
    agent = _agent(tmp_path, base)
    out = agent.generate([request_for(i, tiny_bench) for i in items])
    t = center_zoom(np.zeros((8, 8, 3), np.uint8)).transform
    for item, asked, resp in zip(items, base.seen, out, strict=True):
        step = resp.extra["agent_trace"][1]
        x, y = (int(v) for v in item.question.split("point (")[1].split(")")[0].split(", "))
        ex, ey = t.to_edited(x, y)
        if 0 <= ex <= 1000 and 0 <= ey <= 1000:
            assert step["applied"] and step["skill"] == "center_zoom"
            assert f"({round(ex)}, {round(ey)})" in asked.prompt and f"({round(ex)}, {round(ey)})" in asked.item.question
            assert asked.item.item_id == item.item_id and asked.item.truth == item.truth
        else:  # the crop would cut the named point away: the original is kept
            assert not step["applied"] and "outside the edited image" in step["kept_original"]
            assert asked.prompt == request_for(item, tiny_bench).prompt


def test_a_point_answer_on_the_zoomed_image_is_mapped_back(tiny_bench: Benchmark, tmp_path: Path) -> None:
    item = next(i for i in tiny_bench.items if i.subtype == "small_scale" and i.format == "point")
    out = _agent(tmp_path, _Echo()).generate([request_for(item, tiny_bench)])[0]
    assert out.extra["agent_trace"][1]["applied"]
    assert out.text == "[500, 500]"  # the centre stays the centre under a centre zoom
    corner = Transform(crop=center_zoom(np.zeros((8, 8, 3), np.uint8)).transform.crop).to_original(0, 0)
    assert corner == pytest.approx((115.4, 115.4), abs=0.1)


def test_models_that_read_one_image_get_the_edited_one_alone(tmp_path: Path) -> None:
    """reader reads one image, like the weight-free models: an agent that sent it the original
    first and the edit second changed none of its answers (lab16, before this rule)."""
    for name in ("classical", "oracle", "random", "blind", "prior"):
        assert create_model(name).reads_one_image, name
    from robostress.models.reader import Reader

    assert Reader.reads_one_image
    two = StressAwareAgent(_Echo(), tmp_path, detector="oracle", images="both")
    one = StressAwareAgent(_Echo(), tmp_path, detector="oracle")
    assert two.describe()["sent"] == "both" and one.describe()["sent"] == "edited"


def test_skill_map_override_is_checked_and_leaves_the_default_agent_unchanged(tmp_path: Path) -> None:
    plain = StressAwareAgent(create_model("classical"), tmp_path, detector="oracle")
    assert plain.describe()["skills"] == SUBTYPE_SKILLS and SUBTYPE_SKILLS["small_scale"] == "identity"
    zoom = build_agent(create_model("classical"), {"name": "z", "detector": "oracle",
                                                   "skills": {"small_scale": "center_zoom"}}, tmp_path)
    assert zoom.describe()["skills"]["small_scale"] == "center_zoom"
    with pytest.raises(ConfigError, match="unknown sub-type 'tiny_scale'"):
        StressAwareAgent(create_model("classical"), tmp_path, detector="oracle", skills={"tiny_scale": "center_zoom"})
    with pytest.raises(ConfigError, match="unknown edit skill 'zoom_in'"):
        StressAwareAgent(create_model("classical"), tmp_path, detector="oracle", skills={"small_scale": "zoom_in"})


def test_fit_gate_fits_the_optional_zoom_skill() -> None:
    classes = ["global_underexposure", "none", "small_scale"]
    rng = np.random.default_rng(1)
    y = ["none"] * 30 + ["small_scale"] * 30 + ["global_underexposure"] * 30
    z = rng.normal(0, 0.3, (90, 3))
    z[:30, 1] += 3.0
    z[30:60, 2] += 3.0
    z[60:, 0] += 3.0
    _, gates = fit_gate(classes, z, y)
    assert gates["center_zoom"] <= 0.9 and gates["exposure_gamma"] <= 0.9 and gates["highlight_suppress"] > 1


def test_exposure_linear_undoes_a_linear_exposure_change(tiny_bench: Benchmark) -> None:
    """A frame scaled in linear light by 2^-ev (every emitter scaled, nothing clipped) gives back the
    factor 2^ev against the unscaled frame, and the edits of both land on the same pixels."""
    from robostress.agent.skills import exposure_factor, exposure_linear
    from robostress.core.colour import linear_to_srgb8, srgb_to_linear

    clean = tiny_bench.image(next(f for f in tiny_bench.frames.values() if f.stress.severity == 0).image)
    for ev in (1.0, 2.0, 3.0):
        dark = linear_to_srgb8(srgb_to_linear(clean) * 2 ** -ev)
        assert np.log2(exposure_factor(dark) / exposure_factor(clean)) == pytest.approx(ev, abs=0.1)
        diff = np.abs(exposure_linear(dark).image.astype(int) - exposure_linear(clean).image.astype(int))
        assert np.median(diff) <= 2 + ev, (ev, np.median(diff))  # 8-bit rounding of the dark frame grows with ev
    white = np.full((8, 8, 3), 255, np.uint8)
    assert exposure_factor(white) == pytest.approx(1 / 16)  # every percentile clipped: the strongest cut
