"""The CNN stress detector: training, numpy inference, its weight files and the agent's gates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from robostress.agent import StressAwareAgent
from robostress.agent.cnn import DEFAULT_CNN_WEIGHTS, CNNDetector, dimension_from
from robostress.agent.detector import Detection
from robostress.agent.train import fit_gate, frames_of
from robostress.benchmark.load import Benchmark
from robostress.errors import ConfigError, DataError
from robostress.evaluate.runner import request_for
from robostress.models.base import create_model


@pytest.fixture(scope="module")
def tiny_frames(tiny_bench: Benchmark) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    return frames_of(tiny_bench, progress=False)


def test_cnn_trains_its_loss_falls_and_numpy_matches_torch(tiny_frames: tuple, tiny_bench: Benchmark) -> None:
    torch = pytest.importorskip("torch")
    from robostress.agent.cnn import _torch_net, fit_cnn

    x, f, y, _ = tiny_frames
    det, curve = fit_cnn(x, f, y, epochs=25, seed=3, lr=5e-3, batch=16)
    assert len(curve) == 25 and curve[-1] < curve[0] * 0.8, curve
    a, _ = fit_cnn(x[:20], f[:20], y[:20], epochs=2, seed=3, batch=16)
    b, _ = fit_cnn(x[:20], f[:20], y[:20], epochs=2, seed=3, batch=16)
    assert all(np.array_equal(a.t[k], b.t[k]) for k in a.t)  # one thread, one seed: same weights
    net = _torch_net(len(det.classes), f.shape[1])
    net.load_state_dict({k: torch.tensor(v) for k, v in det.t.items() if not k.startswith("feat_")})
    net.eval()
    fs = (f - det.t["feat_mean"]) / det.t["feat_std"]
    with torch.no_grad():
        ref = net(torch.tensor(x[:4]), torch.tensor(fs[:4], dtype=torch.float32)).numpy()
    ours = np.stack([det.logits_prepared(x[i], f[i]) for i in range(4)])
    assert np.allclose(ours, ref, atol=1e-4)


@pytest.mark.skipif(not DEFAULT_CNN_WEIGHTS.exists(), reason="no shipped CNN detector weights")
def test_shipped_cnn_loads_and_classifies_tiny_frames(tiny_bench: Benchmark) -> None:
    det = CNNDetector.load()
    assert det.meta["sha"] and det.meta["thresholds"] and det.meta["train_benchmarks"]
    assert all(b["seed"] == 900000 for b in det.meta["train_benchmarks"])  # the train split only
    for fr in list(tiny_bench.frames.values())[:6]:
        d = det.detect(tiny_bench.image(fr.image))
        assert d.subtype in det.classes and sum(d.probs.values()) == pytest.approx(1.0)
        assert d.dimension in ("none", "material", "lighting", "viewpoint", "geometry")


@pytest.mark.skipif(not DEFAULT_CNN_WEIGHTS.exists(), reason="no shipped CNN detector weights")
def test_evaluate_detector_writes_confusion_counts_for_the_cnn(tiny_bench: Benchmark, tmp_path: Path) -> None:
    from robostress.agent.train import evaluate_detector

    res = evaluate_detector(tiny_bench, CNNDetector.load(), tmp_path, progress=False)
    counts = np.array(res["confusion"]["dimension"]["counts"])
    assert counts.sum() == res["frames"] == len(tiny_bench.frames)
    assert np.array(res["confusion"]["subtype"]["counts"]).sum() == res["frames"]
    assert "| true \\ predicted | none |" in (tmp_path / "detector_confusion.md").read_text()


def _write(path: Path, **arrays: object) -> Path:
    with path.open("wb") as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]
    return path


def test_bad_cnn_weight_files_give_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="CNN detector weights not found"):
        CNNDetector.load(tmp_path / "none.npz")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(DataError, match="not a valid CNN detector file"):
        CNNDetector.load(tmp_path / "junk.npz")
    with pytest.raises(DataError, match="is not 'robostress-cnn-detector/1'"):
        CNNDetector.load(_write(tmp_path / "legacy.npz", format_version=np.array(1)))  # the feature detector's file
    with pytest.raises(DataError, match="not a valid CNN detector file"):
        CNNDetector.load(_write(tmp_path / "pickled.npz", format=np.array("robostress-cnn-detector/1"),
                                classes=np.array(["none"]), meta=np.array([{"evil": 1}], dtype=object)))
    with pytest.raises(DataError, match="lacks"):
        CNNDetector.load(_write(tmp_path / "empty.npz", format=np.array("robostress-cnn-detector/1"),
                                classes=np.array(["none"]), meta=np.array("{}")))


def test_dimension_is_none_only_when_clean_is_most_probable() -> None:
    classes = ["complex_texture", "dark_absorptive", "global_underexposure", "none", "transparent"]
    assert dimension_from(classes, np.array([0.2, 0.2, 0.05, 0.35, 0.2])) == "none"
    assert dimension_from(classes, np.array([0.3, 0.1, 0.25, 0.2, 0.15])) == "material"


def test_fit_gate_reaches_the_clean_target_and_turns_off_an_unreliable_skill() -> None:
    classes = ["global_overexposure", "global_underexposure", "local_overexposure", "none"]
    rng = np.random.default_rng(0)
    y = ["none"] * 40 + ["global_underexposure"] * 40 + ["local_overexposure"] * 40
    z = rng.normal(0, 0.3, (120, 4))
    z[:40, 3] += 0.5  # clean frames: 'none' only slightly ahead, the bias must push it
    z[:40, 1] += 0.8
    z[40:80, 1] += 4.0  # darkness: clearly seen
    z[80:, 2] += 1.0  # local glare: as often called on clean frames as on its own
    z[:40:2, 2] += 3.0
    bias, gates = fit_gate(classes, z, y)
    assert bias > 0 and np.mean((z[:40] + np.eye(4)[3] * bias).argmax(1) == 3) >= 0.9
    assert gates["exposure_gamma"] <= 0.9 and gates["highlight_suppress"] > 1


class _Fixed:
    """A detector that sees global underexposure with a set probability."""

    def __init__(self, p: float) -> None:
        self.p, self.meta = p, {"sha": "fixed", "thresholds": {"exposure_gamma": 0.7, "highlight_suppress": 0.9}}

    def detect(self, rgb: np.ndarray) -> Detection:
        probs = {"global_underexposure": self.p, "global_overexposure": 0.05, "none": 0.95 - self.p}
        return Detection("global_underexposure", "lighting", self.p, probs)


@pytest.mark.parametrize(("p", "applied"), [(0.5, False), (0.8, True)])
def test_fitted_gate_skips_edits_below_its_threshold(tiny_bench: Benchmark, tmp_path: Path, p: float,
                                                     applied: bool) -> None:
    agent = StressAwareAgent(create_model("classical"), tmp_path, detector="oracle")
    agent.detector, agent.threshold = _Fixed(p), "fitted"
    agent.thresholds = agent._thresholds("fitted")
    item = next(i for i in tiny_bench.items if i.subtype == "global_underexposure" and i.severity == 5)
    step = agent.generate([request_for(item, tiny_bench)])[0].extra["agent_trace"][1]
    assert step["applied"] is applied
    if not applied:  # the skill's confidence sums both exposure sub-types: 0.55 < 0.70
        assert "0.55 < 0.70 for exposure_gamma" in step["kept_original"]


def test_fitted_threshold_needs_a_detector_with_gates(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs a detector whose weights carry fitted gates"):
        StressAwareAgent(create_model("classical"), tmp_path, detector="oracle", threshold="fitted")
    with pytest.raises(ConfigError, match="number or 'fitted'"):
        StressAwareAgent(create_model("classical"), tmp_path, detector="oracle", threshold="auto")


@pytest.mark.slow
def test_train_detector_cnn_refuses_before_any_work(tiny_bench: Benchmark, tmp_path: Path) -> None:
    """One line and exit 2 for each mistake; an evaluation benchmark (seed 0) is never trained on."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    cases = [(["kind=cnn"], "give train_benchmarks=[benchmarks/train-prior]"),
             (["kind=svm"], "kind must be one of features, cnn"),
             (["kind=cnn", f"train_benchmarks=[{tmp_path}/none]"], "no benchmark there"),
             (["kind=cnn", f"train_benchmarks=[{tiny_bench.root}]"], "has seed 0, not the train split's 900000")]
    for args, message in cases:
        r = subprocess.run([sys.executable, "-m", "robostress.cli.main", "train-detector", *args], env=env,
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
