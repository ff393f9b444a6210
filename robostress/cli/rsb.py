"""``robostress rsb dataset_dir=... model=...``: evaluate a model on a RoboStressBench dataset."""

from __future__ import annotations

import re
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from robostress.cli.common import checked, log, user_errors
from robostress.errors import ConfigError

CONFIG = "rsb"
HELP = ("Evaluate one model on a dataset in RoboStressBench's layout under its scoring rules; "
        "writes a per-tag report and its submission.json.")


@hydra.main(config_path="../conf", config_name=CONFIG, version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    """Entry point."""
    checked(CONFIG, cfg)
    if "backend" not in cfg.model:
        raise ConfigError("model needs a 'backend': pick a preset, e.g. model=classical or model=oracle")
    from robostress.interop.rsb_eval import evaluate_rsb  # deferred: keeps `robostress --help` fast
    from robostress.models.spec import ModelSpec  # deferred: keeps `robostress --help` fast

    model_cfg = OmegaConf.to_container(cfg.model, resolve=True)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(cfg.dataset_dir).resolve().name)[:100] or "dataset"
    run_dir = Path(cfg.run_dir) if cfg.run_dir else \
        ModelSpec.from_config(model_cfg).run_dir(Path("runs") / f"rsb-{name}")  # type: ignore[arg-type]
    out = evaluate_rsb(Path(cfg.dataset_dir), model_cfg, run_dir, batch_size=cfg.batch_size,  # type: ignore[arg-type]
                       max_tokens=cfg.max_tokens, limit=cfg.limit, progress=cfg.progress,
                       retry_failed=bool(cfg.retry_failed), dataset_version=cfg.dataset_version)
    o = out["summary"]["overall"]
    log.info("%s: accuracy %.3f on %d samples (%d errors)", out["label"], o.get("accuracy", 0.0), o["n"],
             o.get("errors", 0))
    for key in ("report", "submission"):
        log.info("%s: %s", key, out["files"][key])
