"""``robostress train-detector``: retrain the learned stress detector reproducibly."""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from robostress.cli.common import checked, log, user_errors
from robostress.cli.groups import build_config

CONFIG = "train_detector"
HELP = "Render the disjoint train split and fit the agent's stress detector."


@hydra.main(config_path="../conf", config_name=CONFIG, version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    """Entry point."""
    checked(CONFIG, cfg)
    from robostress.agent.detector import (
        LearnedDetector,  # deferred: keeps `robostress --help` fast
    )
    from robostress.agent.train import (  # deferred: keeps `robostress --help` fast
        evaluate_detector,
        train_detector,
    )
    from robostress.benchmark.load import Benchmark  # deferred: keeps `robostress --help` fast

    meta = train_detector(build_config(cfg.benchmark, cfg.renderer), Path(cfg.work_dir), Path(cfg.cache_dir),
                          Path(cfg.out), progress=cfg.progress)
    log.info("detector %s written to %s (train accuracy %.3f on %d frames)", meta["sha"], cfg.out,
             meta["train_accuracy"], meta["train_frames"])
    if cfg.eval_benchmark:
        res = evaluate_detector(Benchmark(cfg.eval_benchmark), LearnedDetector.load(cfg.out), Path(cfg.eval_out),
                                progress=cfg.progress)
        log.info("eval: dimension acc %.3f (severity>=3: %.3f), sub-type acc %.3f, clean detected %.3f",
                 res["dimension_accuracy_stressed"], res["dimension_accuracy_severity_ge3"],
                 res["subtype_accuracy_stressed"], res["clean_detection_rate"])
