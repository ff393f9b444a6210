"""``robostress leakage [benchmark_dir=...]``: thin Hydra entry point over robostress.evaluate.leakage."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from robostress.cli.common import checked, user_errors

CONFIG = "leakage"
HELP = "Text-only leakage per question type (prior and blind baselines, answer balance), built or sampled scenes."


@hydra.main(config_path="../conf", config_name=CONFIG, version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    """Entry point: print the table of a built benchmark, or of sampled scenes."""
    checked(CONFIG, cfg)
    from robostress.evaluate import leakage as lk  # deferred: keeps `robostress --help` fast

    if cfg.benchmark_dir is not None:
        lk.print_leakage(str(cfg.benchmark_dir), bool(cfg.clean_only))
        return
    rows = lk.sampled_leakage(str(cfg.family), int(cfg.train_scenes), int(cfg.test_scenes))
    print(lk.sampled_header(str(cfg.family), int(cfg.train_scenes), int(cfg.test_scenes)))
    print(lk.format_rows(rows))
