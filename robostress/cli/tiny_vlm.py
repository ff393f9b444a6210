"""``robostress make-tiny-vlm out_dir=...``: write a tiny random LLaVA (offline) for smoke runs."""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from robostress.cli.common import checked, log, user_errors
from robostress.models.tiny_vlm import build_tiny_llava

CONFIG = "tiny_vlm"
HELP = "Write a tiny random LLaVA (offline) for smoke runs of the hf backend."


@hydra.main(config_path="../conf", config_name=CONFIG, version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    """Entry point."""
    checked(CONFIG, cfg)
    path = build_tiny_llava(Path(cfg.out_dir), seed=int(cfg.seed))
    log.info("tiny LLaVA written to %s; evaluate it with: robostress eval model=hf model.path=%s", path, path)
