"""``robostress calibrate [num_scenes=...]``: thin Hydra entry point over robostress.evaluate.calibrate."""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from robostress.cli.common import checked, log, user_errors

CONFIG = "calibrate"
HELP = ("Refit the weights question types draw their options by and the acceptance factors of the types "
        "whose question text would give the answer away, on the train split (about 11 min).")


@hydra.main(config_path="../conf", config_name=CONFIG, version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    """Entry point: refit, write the table, print each type's fit."""
    checked(CONFIG, cfg)
    from robostress.evaluate.calibrate import (  # deferred: keeps `robostress --help` fast
        acceptance_path,
        format_acceptance,
        format_fit,
        refit,
    )
    from robostress.questions.weighting import (
        WEIGHT_TABLE,  # deferred: keeps `robostress --help` fast
    )

    out = Path(cfg.out) if cfg.out is not None else WEIGHT_TABLE
    families = [str(f) for f in cfg.families]
    table, accepted = refit(int(cfg.num_scenes), out=out, progress=bool(cfg.progress), families=families)
    for fam in families:
        print(format_fit(table, fam))
        print(format_acceptance(accepted, fam))
    log.info("weights written to %s, acceptance factors to %s", out, acceptance_path(out))
