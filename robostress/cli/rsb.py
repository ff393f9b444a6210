"""``robostress rsb dataset_dir=... model=...``: evaluate a model on a RoboStressBench dataset."""

from __future__ import annotations

import re
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from robostress.cli.common import checked, log, user_errors
from robostress.errors import ConfigError

CONFIG = "rsb"
HELP = ("Evaluate one model on a dataset in RoboStressBench's layout under its rules; writes its "
        "summary.json, submission.json and predictions.json, and a report of lenient vs strict parsing.")


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
    parser = str(cfg.rsb.parser)
    run_dir = Path(cfg.run_dir) if cfg.run_dir else \
        ModelSpec.from_config(model_cfg).run_dir(Path("runs") / f"rsb-{name}")  # type: ignore[arg-type]
    if not cfg.run_dir and parser != "lenient":
        run_dir = run_dir.with_name(f"{run_dir.name}-{parser}")
    out = evaluate_rsb(Path(cfg.dataset_dir), model_cfg, run_dir, batch_size=cfg.batch_size,  # type: ignore[arg-type]
                       max_tokens=cfg.max_tokens, limit=cfg.limit, progress=cfg.progress,
                       retry_failed=bool(cfg.retry_failed), dataset_version=cfg.dataset_version, parser=parser)
    o = out["summary"]["overall_statistics"]
    le, st = (out["summaries"][p]["overall_statistics"] for p in ("lenient", "strict"))
    log.info("%s: total_acc %.4f on %d samples (%d errors, %d unparsed) with the %s parser", out["label"],
             o["total_acc"], o["total_questions"], o["error_count"], o["unparsed_count"], parser)
    log.info("%s: total_acc lenient (RoboStressBench's parser) %.4f, strict (robostress's) %.4f",
             out["label"], le["total_acc"], st["total_acc"])
    for key in ("summary", "submission", "predictions", "report"):
        log.info("%s: %s", key, out["files"][key])
