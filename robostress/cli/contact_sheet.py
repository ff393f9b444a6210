"""``robostress contact-sheet benchmark_dir=...``: labelled stress grids, one PNG per scene."""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from robostress.cli.common import checked, log, user_errors

CONFIG = "contact_sheet"
HELP = "Draw one labelled grid per scene (rows: sub-types, columns: severities 0-5)."


@hydra.main(config_path="../conf", config_name=CONFIG, version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    """Entry point."""
    checked(CONFIG, cfg)
    from robostress.benchmark.contact_sheet import (
        write_contact_sheets,  # deferred: keeps `robostress --help` fast
    )

    paths = write_contact_sheets(Path(cfg.benchmark_dir), Path(cfg.out_dir))
    log.info("wrote %d contact sheets to %s", len(paths), cfg.out_dir)
