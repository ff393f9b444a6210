"""``robostress compare RUN_DIR... [out_dir=...] [pairs=all|first]``: thin Hydra entry point over
robostress.report.compare. Positional run folders become the ``runs`` list."""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from robostress.cli.common import log, user_errors
from robostress.errors import ConfigError

HELP = "One report comparing several runs on one benchmark (tables, curves, heatmaps, paired differences)."


def hydra_list(values: list[str]) -> str:
    """A Hydra override value: a list of single-quoted strings (quotes and backslashes escaped)."""
    return "[" + ",".join("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in values) + "]"


def positional_to_override(argv: list[str], key: str) -> list[str]:
    """argv with its positional arguments (not key=value, not options) gathered into ``key=[...]``."""
    pos = [a for a in argv[1:] if "=" not in a and not a.startswith("-")]
    rest = [a for a in argv[1:] if a not in pos]
    return [argv[0], *rest, f"{key}={hydra_list(pos)}"] if pos else argv


@hydra.main(config_path="../conf", config_name="compare", version_base="1.3")
@user_errors
def _main(cfg: DictConfig) -> None:
    from robostress.report.compare import (  # deferred: keeps `robostress --help` fast
        load_runs,
        write_comparison,
    )

    if OmegaConf.is_missing(cfg, "runs"):
        raise ConfigError("compare needs run folders: robostress compare runs/a runs/b [out_dir=...]")
    runs = [cfg.runs] if isinstance(cfg.runs, str) else list(cfg.runs)
    loaded = load_runs([Path(r) for r in runs], resamples=int(cfg.resamples))
    files = write_comparison(Path(cfg.out_dir), loaded, pairs=str(cfg.pairs), seed=int(cfg.seed),
                             resamples=int(cfg.resamples))
    log.info("compared %d runs: %s", len(loaded), ", ".join(r.label for r in loaded))
    log.info("report: %s", files["html"])
    log.info("tables: %s", files["dimensions_csv"].parent)


def main() -> None:
    """Entry point."""
    sys.argv = positional_to_override(sys.argv, "runs")
    _main()
