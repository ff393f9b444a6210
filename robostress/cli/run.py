"""``robostress`` with no command: the main job (thin Hydra entry point)."""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from robostress.cli.common import checked, log, user_errors
from robostress.cli.groups import build_config

CONFIG = "run"
HELP = "The main job: build mini if needed, evaluate classical, sanity rows and the agent, write the report."


@hydra.main(config_path="../conf", config_name=CONFIG, version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    """Entry point."""
    checked(CONFIG, cfg)
    from robostress.evaluate.main_job import main_job  # deferred: keeps `robostress --help` fast

    out = main_job(build_config(cfg.benchmark, cfg.renderer, cfg.shard, cfg.num_shards), Path(cfg.out_dir),
                   Path(cfg.cache_dir), Path(cfg.runs_dir), main_model=cfg.main_model,
                   sanity_models=list(cfg.sanity_models), agents=list(cfg.agents), batch_size=cfg.batch_size,
                   progress=cfg.progress, skill_ablations=cfg.skill_ablations,
                   main_model_args=OmegaConf.to_container(cfg.main_model_args, resolve=True),  # type: ignore[arg-type]
                   retry_failed=bool(cfg.retry_failed), ablation_reuse=bool(cfg.ablation_reuse))
    for label, s in out["rows"].items():
        w = s.worst_dimension
        log.info("%-22s clean %5.1f%%  stressed %5.1f%%  worst dimension: %s (%.1f%%)", label,
                 100 * (s.clean.accuracy or 0), 100 * (s.stressed_micro.accuracy or 0),
                 w.dimension if w else None, 100 * (w.accuracy if w else 0))
    log.info("report: %s", out["files"]["html"])
    log.info("markdown: %s", out["files"]["md"])
    log.info("comparison (CSV + LaTeX tables beside it): %s", out["files"]["compare"])
