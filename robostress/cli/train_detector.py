"""``robostress train-detector``: retrain the learned stress detector reproducibly."""

from __future__ import annotations

from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from robostress.cli.common import checked, log, user_errors
from robostress.cli.groups import build_config
from robostress.errors import ConfigError

CONFIG = "train_detector"
HELP = "Render the disjoint train split and fit the agent's stress detector."


@hydra.main(config_path="../conf", config_name=CONFIG, version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    """Entry point."""
    checked(CONFIG, cfg)
    from robostress.agent.cnn import (
        DEFAULT_CNN_WEIGHTS,  # deferred: keeps `robostress --help` fast
        CNNDetector,
    )
    from robostress.agent.detector import (  # deferred: keeps `robostress --help` fast
        DEFAULT_WEIGHTS,
        LearnedDetector,
    )
    from robostress.agent.train import (  # deferred: keeps `robostress --help` fast
        evaluate_detector,
        train_cnn_detector,
        train_detector,
    )
    from robostress.benchmark.load import Benchmark  # deferred: keeps `robostress --help` fast

    out = Path(cfg.out or (DEFAULT_CNN_WEIGHTS if cfg.kind == "cnn" else DEFAULT_WEIGHTS))
    det: LearnedDetector | CNNDetector
    if cfg.kind == "cnn":
        benches = [Benchmark(p) for p in cfg.train_benchmarks]
        for b in benches:
            if b.manifest["config"]["seed"] != cfg.benchmark.seed:
                raise ConfigError(f"{b.root} has seed {b.manifest['config']['seed']}, not the train split's "
                                  f"{cfg.benchmark.seed}: the detector never trains on evaluation scenes")
        command = "robostress train-detector " + " ".join(HydraConfig.get().overrides.task)
        meta = train_cnn_detector(benches, out, epochs=cfg.epochs, seed=cfg.benchmark.seed, command=command,
                                  progress=cfg.progress)
        log.info("CNN detector %s written to %s (%d frames; out of fold: clean called clean %.3f; gates %s)",
                 meta["sha"], out, meta["train_frames"], meta["out_of_fold"]["clean_called_clean"], meta["thresholds"])
        det = CNNDetector.load(out)
    else:
        meta = train_detector(build_config(cfg.benchmark, cfg.renderer), Path(cfg.work_dir), Path(cfg.cache_dir),
                              out, progress=cfg.progress)
        log.info("detector %s written to %s (train accuracy %.3f on %d frames)", meta["sha"], out,
                 meta["train_accuracy"], meta["train_frames"])
        det = LearnedDetector.load(out)
    if cfg.eval_benchmark:
        res = evaluate_detector(Benchmark(cfg.eval_benchmark), det, Path(cfg.eval_out or f"{out}.eval"),
                                progress=cfg.progress)
        log.info("eval: dimension acc %.3f (severity>=3: %.3f), sub-type acc %.3f, clean detected %.3f",
                 res["dimension_accuracy_stressed"], res["dimension_accuracy_severity_ge3"],
                 res["subtype_accuracy_stressed"], res["clean_detection_rate"])
