"""``robostress leakage [benchmark_dir=...]``: thin Hydra entry point over robostress.evaluate.leakage."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from robostress.cli.common import checked, user_errors

CONFIG = "leakage"
HELP = ("Text-only leakage per question type (prior and blind baselines, answer balance, optionally a learned "
        "logreg text model), built or sampled scenes.")


@hydra.main(config_path="../conf", config_name=CONFIG, version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    """Entry point: print the table of a built benchmark, or of sampled scenes."""
    checked(CONFIG, cfg)
    from robostress.evaluate import leakage as lk  # deferred: keeps `robostress --help` fast

    if cfg.benchmark_dir is not None:
        lk.print_leakage(str(cfg.benchmark_dir), bool(cfg.clean_only))
        return
    family, n_train, n_test = str(cfg.family), int(cfg.train_scenes), int(cfg.test_scenes)
    train, test = lk.sampled_items(family, n_train, n_test)
    print(lk.sampled_header(family, n_train, n_test))
    print(lk.format_rows(lk.prior_rows(train, test, family)))
    if cfg.learner == "logreg":
        from robostress.evaluate.text_learner import (  # deferred: as above
            format_learned,
            learned_rows,
        )

        print(f"\nlearned text-only model (logreg), fitted on the {n_train} train scenes, scored on the {n_test} "
              "held-out scenes; margin = accuracy - chance, SE clustered by scene")
        print(format_learned(learned_rows(train, test)))
