"""``robostress audit benchmark_dir=...``: thin Hydra entry point over robostress.benchmark.audit."""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from robostress.cli.common import checked, user_errors

CONFIG = "audit"
HELP = "What a built benchmark measures: categories, robot visibility, void frames, realised severity, noise, cells."


@hydra.main(config_path="../conf", config_name=CONFIG, version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    """Entry point: print the audit tables."""
    checked(CONFIG, cfg)
    from robostress.benchmark import audit as au  # deferred: keeps `robostress --help` fast

    print(au.format_audit(au.audit(Path(cfg.benchmark_dir))))
